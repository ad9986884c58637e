"""One module per page, each with SCENARIOS = [bench.browser.Scenario(...), ...]."""
