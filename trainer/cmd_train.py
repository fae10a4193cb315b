"""Fine-tune the encoder with X-X, X-Y or hybrid batches; writes a model folder and training_card.json.

The loss is MultipleNegativesRankingLoss (InfoNCE, in-batch negatives); --scale is 1/temperature
(default 20; e5 was pre-trained at temperature 0.01, i.e. --scale 100). A dev split is held out
from the training data by group; it is evaluated every --eval-steps steps, the best checkpoint is
kept and training stops after --patience evaluations without progress. CUDA is used when present
(bf16), the CPU otherwise. Training starts from the untuned encoder (`base`) unless --model says
otherwise. With --lora-rank R only a LoRA adapter trains (PEFT through sentence-transformers) and
the run folder holds the adapter instead of a 470 MB copy of the weights. The last line on stdout
is the model folder.

Examples:
    python -m trainer train --train mlqa-r-dev --policy hybrid --alpha 0.5 --out runs/hybrid
    python -m trainer train --train mlqa-r-dev --out runs/quick --max-steps 200 --freeze-embeddings
    python -m trainer train --train mlqa-r-dev --out runs/lora16 --lora-rank 16 --lr 3e-4   # a 5 MB adapter
    python -m trainer train --train mlqa-r-dev --out runs/hybrid --resume      # after an interruption
    torchrun --nproc_per_node 4 -m trainer train --train mlqa-r-dev,afriqa --out runs/hybrid-4gpu
"""

from __future__ import annotations

import argparse
import os

from corpora.registry import DISTRACTOR_SETS
from corpora.settings import get_settings
from trainer.cmd_batches import add_data_flags, config_from
from trainer.pairs import HARD_NEGATIVE_SIDES
from trainer.train import train


def configure(parser: argparse.ArgumentParser) -> None:
    add_data_flags(parser)
    parser.add_argument("--out", required=True, help="output folder, e.g. runs/NAME")
    parser.add_argument("--model", default="base",
                        help="encoder to start from: base (default: the untuned e5-small), default, a folder or a hub id")
    parser.add_argument("--epochs", type=float, default=1.0, help="epochs (default 1; an epoch = questions / batch size batches)")
    parser.add_argument("--lr", type=float, default=3e-5, help="peak learning rate (default 3e-5)")
    parser.add_argument("--warmup", type=float, default=0.1, help="warmup: a share of the steps (<1) or a number (default 0.1)")
    parser.add_argument("--max-steps", type=int, default=-1, help="stop after this many steps (default: the epochs decide)")
    parser.add_argument("--freeze-embeddings", action="store_true", help="keep the word embeddings fixed (96M of 118M weights)")
    parser.add_argument("--max-seq-length", type=int, default=128, help="tokens per query/passage (default 128)")
    parser.add_argument("--scale", type=float, default=20.0, help="loss scale = 1/temperature (default 20; e5 pre-training: 100)")
    parser.add_argument("--eval-steps", type=int, default=100, help="dev evaluation every N steps (default 100; 0: at the end only)")
    parser.add_argument("--patience", type=int, default=3, help="early stopping after N evaluations without progress (0: off)")
    parser.add_argument("--save-steps", type=int, help="checkpoint every N steps (default: --eval-steps)")
    parser.add_argument("--logging-steps", type=int, default=10, help="log the loss every N steps (default 10)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint in OUT/checkpoints")
    parser.add_argument("--distill", type=float, default=0.0,
                        help="weight of knowledge distillation beside the ranking loss: each question and passage "
                             "pulled to the base model's embedding of its group's English side (default 0: off)")
    parser.add_argument("--hard-negatives", nargs="?", const="question", choices=HARD_NEGATIVE_SIDES,
                        help="add one hard negative per pair: a sentence of the paragraph or news story around the "
                             "answer that is not the answer, in the question's language (question, the default when "
                             "the flag is given alone) or the answer's (answer); sets with context: "
                             f"{', '.join(DISTRACTOR_SETS)}")
    lora = parser.add_argument_group("LoRA adapter (instead of training all weights)")
    lora.add_argument("--lora-rank", type=int, default=0, help="rank of a LoRA adapter to train (0: full fine-tuning; e.g. 16)")
    lora.add_argument("--lora-alpha", type=float, help="adapter scale alpha; the update is scaled by alpha/rank (default 2 x rank)")
    lora.add_argument("--lora-dropout", type=float, default=0.0,
                      help="dropout on the adapter input (default 0: 0.05 made CPU steps 25%% slower, bench/train_throughput.py)")
    lora.add_argument("--lora-targets", default="all",
                      help="modules to adapt: all (attention + feed-forward, default), attention, or module names")


def run(args: argparse.Namespace) -> int:
    settings = get_settings(data=args.data, model=args.model)
    config = config_from(
        args, out=args.out, model=settings.model, epochs=args.epochs, lr=args.lr, warmup=args.warmup,
        max_steps=args.max_steps, freeze_embeddings=args.freeze_embeddings, max_seq_length=args.max_seq_length,
        scale=args.scale, eval_steps=args.eval_steps, patience=args.patience, save_steps=args.save_steps,
        logging_steps=args.logging_steps, resume=args.resume, lora_rank=args.lora_rank, lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout, lora_targets=args.lora_targets, distill=args.distill,
        hard_negatives=args.hard_negatives,
    )
    out = train(config, settings=settings)  # bad settings or data: a Polylex error, reported by trainer.cli
    if int(os.environ.get("RANK", "0")) == 0:  # under torchrun every process gets here; one line is enough
        print(out)
    return 0
