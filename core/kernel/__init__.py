"""The kernel: flow records and their recorder, events, queues and the service runtime.

It knows no service and no Cinder object: services fill its registries (the tasks each flow
plans, the panels of a volume's page) when Django starts them.
"""
