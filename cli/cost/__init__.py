"""Cost: the finance report, what a stack costs, the shipped price table and the spend cap."""
