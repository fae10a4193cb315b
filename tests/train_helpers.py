"""The tiny training recipe shared by the training and merge tests."""

# A small slice, short texts and frozen word embeddings: about a second a step on 2 cores.
RECIPE = dict(train=["mlqa-r-dev"], limit=60, dev_groups=6, batch_size=8, max_seq_length=32,
              freeze_embeddings=True, lr=5e-5, max_steps=10, save_steps=5, eval_steps=5, logging_steps=1, seed=7)
