# unit tests of broker
