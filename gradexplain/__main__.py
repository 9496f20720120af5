"""`python -m gradexplain`."""

from gradexplain.cli import main

if __name__ == "__main__":
    main()
