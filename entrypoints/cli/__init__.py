"""The `paygate` admin CLI: the same use cases as the API, for operators and scripts."""
