"""The web app as Hugging Face Spaces and Docker start it (`app_file: app.py` in the README's front
matter): `python launch.py` with no command, listening where GRADIO_SERVER_NAME and
GRADIO_SERVER_PORT say; the app's options (`--lang en`, `--image-root DIR`) work as there."""

import sys

import launch  # first: it quiets TensorFlow's start-up before anything loads it

if __name__ == "__main__":
    sys.exit(launch.run())
