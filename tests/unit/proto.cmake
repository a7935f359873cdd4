# unit tests of proto
