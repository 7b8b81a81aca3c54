"""The verdict path of a suite: the suite model, budgets, measurements, the judge, results.json."""
