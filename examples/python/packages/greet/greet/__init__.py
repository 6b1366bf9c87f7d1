"""Greetings, from a package pip installs from the build's own index."""


def greet(name: str) -> str:
    return f"hello, {name}, from greet"
