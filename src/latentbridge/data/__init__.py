"""Data: image folders (:mod:`.folders`), the deterministic training stream (:mod:`.stream`)
and the benchmark generators (:mod:`.faces`, :mod:`.digits`, written by ``latentbridge data``)."""
