"""The local target's load balancer: one process per ALB listener, forwarding to the healthy
targets of the listener's target group with the group's algorithm and health checks."""
