"""Batched rescoring of stored fixes: ``service`` runs it, ``batch`` gathers a batch's inputs from what
``timeline`` (fixes), ``alerts`` and ``zones`` hold in memory, ``gridjoin`` pairs points by place and time."""
