"""The text as it is written and as it is spoken, for the realtime models: its pieces (words,
Han characters), its sentences, and the phrases speak-as-written commits."""

from __future__ import annotations


def written_pieces(text: str) -> list[str]:
    """The text as a writer (or a chatbot) produces it: each word with the spaces and marks after
    it, each Han character on its own; joined, they are the text."""
    pieces: list[str] = []
    for ch in text:
        han = _is_han(ch)
        glued = ch.isspace() or not (ch.isalnum() or han)  # spaces and marks end a piece
        if pieces and (glued or (not han and not _ends_piece(pieces[-1]))):
            pieces[-1] += ch
        else:
            pieces.append(ch)
    return pieces


_SENTENCE_MARKS = "。！？!?；;\n"


def spoken_sentences(text: str) -> list[str]:
    """The text's sentences, as it is committed to a realtime model (one response each, so
    each sentence's audio has a known start) and lit on the page; joined, they are the text.
    A full stop ends a sentence only before a space or the end ("3.5" stays whole); spaces
    before a sentence belong to it."""
    sentences: list[str] = []
    current = ""
    for index, ch in enumerate(text):
        current += ch
        after = text[index + 1 : index + 2]
        ends = ch in _SENTENCE_MARKS or (ch == "." and (not after or after.isspace()))
        if ends and after not in _SENTENCE_MARKS + "." and current.strip():
            sentences.append(current)
            current = ""
    if current.strip() or not sentences:
        sentences.append(current)
    else:
        sentences[-1] += current
    return sentences


# Speak as it is written: the app commits a prepared text phrase by phrase (commit mode), so the
# voice starts on the first words instead of at the end of the first sentence, and each phrase
# grows as the speech falls behind the writing (as ElevenLabs' chunk_length_schedule does). The
# nth phrase holds at most PHRASE_WORDS[n] words (two Han characters count as one; the last value
# from then on); it ends sooner at its sentence's end, or at a clause's mark once it holds a
# word, and never leaves a lone word of its sentence behind. The first word goes alone, so the
# first sound is the model's first packet after it (Qwen3-TTS is made to speak from the first
# character it is given); waiting for a second word would add 0.25 s at 4 pieces a second.
PHRASE_WORDS = (1, 2, 4, 6, 8, 12)
_CLAUSE_MARKS = ",:\u2014\uff0c\uff1a\u3001"


def written_phrases(text: str) -> list[tuple[list[str], bool]]:
    """The prepared text as it is committed while written: each phrase's pieces (joined, all of
    them are written_pieces(text)), and whether the phrase begins one of spoken_sentences(text),
    so its response's audio start is that sentence's."""
    ends, at = set(), 0
    for sentence in spoken_sentences(text):
        at += len(sentence)
        ends.add(at)
    sentences: list[list[str]] = [[]]
    at = 0
    for piece in written_pieces(text):
        sentences[-1].append(piece)
        if any(at < end <= at + len(piece) for end in ends):
            sentences.append([])
        at += len(piece)
    phrases: list[tuple[list[str], bool]] = []
    for pieces in filter(None, sentences):
        opens = True
        while pieces:
            most = PHRASE_WORDS[min(len(phrases), len(PHRASE_WORDS) - 1)]
            size, words = 0, 0.0
            while size < len(pieces) and words < most:
                words += _words(pieces[size])
                size += 1
                if words >= 1 and pieces[size - 1].rstrip()[-1:] in _CLAUSE_MARKS:
                    break
            if sum(map(_words, pieces[size:])) <= 1.5:  # no lone word left for a phrase
                size = len(pieces)
            phrases.append((pieces[:size], opens))
            pieces, opens = pieces[size:], False
    return phrases


def _ends_piece(piece: str) -> bool:
    """A piece is closed once it holds a space, a mark or a Han character."""
    last = piece[-1]
    return last.isspace() or not last.isalnum() or _is_han(last)


def _is_han(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff"


def _words(piece: str) -> float:
    """How much of a word a piece is: two Han characters make one."""
    return 0.5 if _is_han(piece[0]) else 1.0
