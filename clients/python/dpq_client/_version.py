"""The package version (read by setuptools from this file without importing it).

Versioning rule: the major version is the major of the API package the stubs are generated from
(``dpq.v1`` -> 1.x.y; ``dpq_client.API_VERSION`` is read from the generated descriptors). The minor
goes up with new RPCs/fields or client features, the patch with fixes. tests/test_packaging.py checks
that the major matches the descriptors' package.
"""

__version__ = "1.0.0"
