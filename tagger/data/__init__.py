"""The data side: readers and writers (:mod:`~tagger.data.io`), the annotation markup
(:mod:`~tagger.data.markup`), the seed corpus build (:mod:`~tagger.data.corpus`), the weak topic labeller
(:mod:`~tagger.data.weak`, its patterns as data in :mod:`~tagger.data.weak_patterns`), the silver topic set
(:mod:`~tagger.data.silver`, :mod:`~tagger.data.silver_selftrain`) and composed multi-topic training windows
(:mod:`~tagger.data.multitopic`).

Imports stay explicit (``from tagger.data.io import read_documents``): nothing here is imported eagerly, so the
package costs nothing until a module is used.
"""
