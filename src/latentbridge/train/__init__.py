"""Training: objectives (:mod:`.objectives`), the step (:mod:`.step`), the loop (:mod:`.loop`),
checkpoints (:mod:`.checkpoint`), logs and samples (:mod:`.log`), torch.distributed
(:mod:`.distributed`)."""
