"""Stage 7b: the JSON Schema (draft 2020-12) of the spec format, for editors.

Generated at run time from what validation itself knows: dlkit's own sections and keys
(`keys`, paired with pass 1's key tuples in `dlkit._spec`), the names the resolver accepts
(`dlkit._plan.catalogue`), and Keras' own signatures and docstrings (`arguments`). Nothing of
Keras is restated here. The schema is an aid; `dlkit.load_spec` stays the authority.

- `docstrings`: first lines, ``Args:`` sections, and the types they state.
- `arguments`: a class's constructor arguments as schema properties.
- `values`: the shapes every value may take (search spaces, block parameters, names).
- `components`: layers and components (activations ... schedules) as ``$defs``.
- `forms`: a `Key`, a `Section`, and value forms several sections share.
- `keys`: dlkit's own keys: description, type and default, section by section.
- `applications`: a base's keras.applications names and each one's own arguments.
- `sections`: the spec's sections assembled from `keys`, on pass 1's key tuples.
- `conditions`: what each model kind allows, a stack or a graph, a file source's path.
- `schema`: `schema()`, the whole document.
"""
