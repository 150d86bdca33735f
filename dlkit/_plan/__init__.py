"""Stage 4: a spec resolved into a `Plan`: the only stage that asks Keras what a name means."""
