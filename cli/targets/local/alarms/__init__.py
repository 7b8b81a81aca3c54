"""CloudWatch alarms that fire on the local target: AWS's evaluation rules as pure functions.

moto stores alarms but never evaluates them. These modules do what CloudWatch does with each
alarm once per period: read its datapoints (one metric, or a metric math expression over
several), apply period, evaluation periods, datapoints to alarm, comparison and missing-data
treatment as "Evaluating an alarm" and "Configuring how CloudWatch alarms treat missing data"
describe them, and say the new state with its reason, the history item and the SNS
notification AWS would write. Reading metrics and writing states is the caller's (the stack's
controller); nothing here does I/O.
"""
