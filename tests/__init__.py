"""The test suite: unit tests of pure logic, and the scripts run against a real broker."""
