"""`python -m fastapi_review` entry point."""

from fastapi_review.cli import main

if __name__ == "__main__":
    main()
