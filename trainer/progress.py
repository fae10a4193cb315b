"""The training progress bar: the trainer's tqdm bar (stderr) with the last loss and pairs/s, dev scores as lines."""

from __future__ import annotations

import sys
import time


def progress_callback(pairs_per_step: int):
    from transformers.trainer_callback import ProgressCallback

    class PairsProgress(ProgressCallback):
        """The trainer's tqdm bar (stderr) with the last loss and pairs/s; dev scores as lines.

        pairs/s is a running mean over training steps only (step begin to step end), so the time
        spent evaluating and saving checkpoints does not drag it down.
        """

        def on_train_begin(self, args, state, control, **kwargs):
            super().on_train_begin(args, state, control, **kwargs)
            self.loss, self.step_started, self.seconds_per_step = None, None, None
            if self.training_bar is not None:
                self.training_bar.update(state.global_step)  # a resumed run starts where it stopped
                self.current_step = state.global_step

        def on_step_begin(self, args, state, control, **kwargs):
            self.step_started = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            super().on_step_end(args, state, control, **kwargs)
            if self.training_bar is None or self.step_started is None:
                return
            took = time.perf_counter() - self.step_started
            mean = self.seconds_per_step
            self.seconds_per_step = took if mean is None else 0.9 * mean + 0.1 * took
            self.training_bar.set_postfix(loss=self.loss, pairs_s=f"{pairs_per_step / self.seconds_per_step:.1f}",
                                          refresh=False)

        def on_log(self, args, state, control, logs=None, **kwargs):
            if self.training_bar is None or not logs:
                return
            if "loss" in logs:
                self.loss = f"{logs['loss']:.4f}"
            scores = {k.removeprefix("eval_dev_"): v for k, v in logs.items() if k.startswith("eval_dev_")}
            if scores:
                text = " ".join(f"{k} {v:.4f}" for k, v in scores.items())
                self.training_bar.write(f"step {state.global_step}: dev {text}", file=sys.stderr)

    return PairsProgress()
