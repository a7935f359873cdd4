# unit tests of clients
