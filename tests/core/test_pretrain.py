"""Digits: the three ways to use few labels, and the data split of the reviews."""
import pytest
import torch

from bigmodel_core.errors import UserInputError
from bigmodel_core.models.autoencoder import load_autoencoder
from bigmodel_core.data import mnist_tensors
from bigmodel_core.pretrain import LabelRunConfig, build_classifier, labelled_subset, train_with_labels
from bigmodel_core.sentiment import (NaiveBayes, balanced_first, char_ngrams, clean_review, load_reviews,
                                     make_split)


@pytest.fixture(scope="module")
def digits():
    return mnist_tensors(flat=True)


def test_labelled_subset_is_balanced_and_fixed(digits):
    _, y, _, _ = digits
    idx = labelled_subset(y, 100, seed=0)
    assert len(set(idx.tolist())) == 100
    assert torch.bincount(y[idx], minlength=10).tolist() == [10] * 10
    assert torch.equal(idx, labelled_subset(y, 100, seed=0))
    with pytest.raises(UserInputError):
        labelled_subset(y, 5)


def test_probe_freezes_the_pretrained_encoder_and_finetune_starts_from_it(digits):
    X_train, y_train, X_test, y_test = digits
    ae = load_autoencoder(32, device=torch.device("cpu"))
    probe = train_with_labels(LabelRunConfig(n_labels=20, method="probe", steps=20), X_train, y_train, X_test, y_test)
    assert torch.equal(probe["model"].encoder.weight, ae.encoder.weight)       # never moved
    assert probe["trainable"] == 32 * 10 + 10
    tuned = build_classifier(LabelRunConfig(method="finetune"))
    assert torch.equal(tuned.encoder.weight, ae.encoder.weight)                # starts pre-trained
    scratch = build_classifier(LabelRunConfig(method="scratch"))
    assert not torch.equal(scratch.encoder.weight, ae.encoder.weight)


def test_pretrained_encoder_beats_scratch_with_few_labels(digits):
    # 30 labels, 3 seeds: the probe on the pre-trained code generalizes better than learning from scratch
    X_train, y_train, X_test, y_test = digits
    def mean_acc(method):
        return sum(train_with_labels(LabelRunConfig(n_labels=30, method=method, seed=s), X_train, y_train,
                                     X_test, y_test)["test_acc"] for s in range(3)) / 3
    assert mean_acc("probe") > mean_acc("scratch") + 0.02


def test_reviews_split_is_disjoint_by_text():
    reviews = load_reviews()
    texts = [r.text for r in reviews]
    assert len(set(texts)) == len(texts)                                       # distinct texts only
    split = make_split(reviews)
    assert not set(split.train) & set(split.held_out)
    assert not {texts[i] for i in split.train} & {texts[i] for i in split.held_out}
    assert sum(reviews[i].label for i in split.held_out) == len(split.held_out) // 2
    idx = balanced_first(reviews, split.train, 10)
    assert [reviews[i].label for i in idx] == [0, 1] * 5


def test_naive_bayes_learns_the_obvious_and_bad_reviews_are_messages():
    assert char_ngrams("很好看") == ["很", "好", "看", "很好", "好看"]
    nb = NaiveBayes().fit(["很好", "非常好", "太差", "很差劲"], [1, 1, 0, 0])
    assert nb.predict_proba("好") > 0.5 > nb.predict_proba("差")
    with pytest.raises(UserInputError):
        clean_review("   ")
    with pytest.raises(UserInputError):
        clean_review("好" * 1_000_000)
