"""AlexNet, built after Krizhevsky, Sutskever & Hinton 2012 with Keras layers.

Five convolutions (11x11/4, 5x5, 3x3, 3x3, 3x3) with ReLU, overlapping 3x3/2 max-pooling after
the first, second and fifth, then three dense layers (4096, 4096, 1000) with dropout 0.5 on the
outputs of the first two. Input 227 x 227 x 3, the size that makes the first convolution's arithmetic work
(the paper says 224). Two simplifications, as most re-implementations make: one tower instead of
the paper's two-GPU split, and no local response normalisation (VGG's authors found it did not
help). Layer names follow the paper: conv1..conv5, fc6..fc8.
"""

from __future__ import annotations

__all__ = ["AlexNet"]


def AlexNet(weights=None, *, classes: int = 1000, classifier_activation: str = "softmax", name: str = "alexnet"):
    """Build AlexNet.

    Args:
        weights: None (random initialisation) or the path of a weights file to load.
        classes: number of output classes.
        classifier_activation: activation of the last dense layer.
        name: the model's name.

    Returns:
        A Keras functional model.
    """
    import keras
    from keras import layers

    inputs = keras.Input(shape=(227, 227, 3), name="input_layer")
    x = layers.Conv2D(96, 11, strides=4, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    x = layers.Conv2D(256, 5, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool2")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.Conv2D(384, 3, padding="same", activation="relu", name="conv4")(x)
    x = layers.Conv2D(256, 3, padding="same", activation="relu", name="conv5")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool5")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(4096, activation="relu", name="fc6")(x)
    x = layers.Dropout(0.5, name="dropout6")(x)
    x = layers.Dense(4096, activation="relu", name="fc7")(x)
    x = layers.Dropout(0.5, name="dropout7")(x)
    outputs = layers.Dense(classes, activation=classifier_activation, name="fc8")(x)
    model = keras.Model(inputs, outputs, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model
