"""What each command-line command does, one module each; cli.py only parses arguments."""
