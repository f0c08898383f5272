"""gitml: git-native checks, lineage and verified reproduction for ML projects on git + DVC.

Keep this module empty of imports: the commit hook's fast path imports the package.
"""

__version__ = "0.1.0"
