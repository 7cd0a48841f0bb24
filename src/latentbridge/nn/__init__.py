"""Networks: blocks (:mod:`.blocks`) and the encoders, decoders, discriminators and weight
sharing built from them (:mod:`.networks`)."""
