"""RadLabel viewer application: document model, commands, tools, I/O, services and the Qt UI."""

__version__ = "0.1.0"
