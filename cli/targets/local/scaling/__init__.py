"""EC2 Auto Scaling that runs on the local target: AWS's documented semantics as pure functions.

moto stores a group's policies and scheduled actions but never acts on them, and answers
`describe-scaling-activities` with an empty list. These modules decide what EC2 Auto Scaling
would do (target tracking with the alarms it creates, warm-up, cooldown, desired capacity
within min and max, scheduled actions on their cron recurrence) and describe each activity as
AWS does. Launching and terminating instances and their processes is the caller's.
"""
