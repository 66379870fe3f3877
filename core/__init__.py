"""What every service shares, in two layers below them.

- :mod:`core.cinder`: the shared Cinder objects, as Cinder shares ``cinder.objects``,
  ``cinder.quota``, ``cinder.exception`` and ``cinder.message``: projects and tokens,
  volumes, snapshots, types and images, quota, exceptions, user messages and notifications.
- :mod:`core.kernel`: what the simulation itself runs on: flow records and their recorder,
  events, queues, the service runtime and the services table.

Imports point down only: services may import both, ``core.cinder`` may import the kernel,
and the kernel imports neither (see docs/ARCHITECTURE.md; ``lint-imports`` checks it).
"""
