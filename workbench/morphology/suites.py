"""Built-in robot suites (placeholder, filled in next)."""

SUITES = ("generated-train", "generated-test")


def suite(name):
    raise NotImplementedError("suites not landed yet")


def is_builtin_robot_name(name):
    return False


def builtin_robot(name):
    raise NotImplementedError("suites not landed yet")


def builtin_robot_names():
    return []
