# unit tests of node
