"""The command line: one module per command, option parsing, console set-up.

The only package that knows about terminal arguments and exit codes. It may import every other
package (it is the top of the data flow); nothing in ``gilwise`` imports it but ``gilwise.cli``.
"""
