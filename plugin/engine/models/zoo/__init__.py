"""Models this project builds itself with Keras layers, in the style of `keras.applications`."""
