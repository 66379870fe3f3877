"""The base of the tasks that play a manager method Cinder runs without taskflow (extend,
revert, retype, migrate): each step has the backend's driver and its ``host@backend#pool``."""

from core.kernel import flows


class ManagerMethodTask(flows.CinderTask):
    def __init__(self, driver, host: str, **kwargs):
        super().__init__(**kwargs)
        self.driver = driver
        self.host = host
