"""I/O components: File, Serial, Notify, Process, StdIn/StdOut/StdErr.

Importing this package has no side effects: the standard-stream
components are created only when asked for (see circuits.io.stdio).
"""
