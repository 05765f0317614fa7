"""Qt-free tool logic: view events in, commands out."""
