"""The predefined security questions and the rules for registering answers."""

from __future__ import annotations

from kiosk.engine.text import has_control_chars, normalize_answer, words

# ids are stable (stored with answers); the UI translates the text by id
PREDEFINED: dict[str, str] = {
    "pet": "What was the name of your first pet?",
    "city": "In what city were you born?",
    "nickname": "What was your childhood nickname?",
    "school": "What was the name of your first school?",
    "street": "On what street did you grow up?",
    "teacher": "What was the last name of your favourite teacher?",
    "friend": "What is the first name of your best childhood friend?",
    "car": "What was the make of your first car?",
    "job": "What was your first job?",
    "book": "What is the title of your favourite book?",
    "food": "What was your favourite food as a child?",
    "hero": "Who was your childhood hero?",
    "parents_met": "In what city did your parents meet?",
    "grandmother": "What is your maternal grandmother's first name?",
    "sibling": "What is the middle name of your oldest sibling?",
    "concert": "What was the first concert you attended?",
    "holiday": "Where did you go on your first holiday?",
    "toy": "What was your favourite toy as a child?",
    "sport_team": "What was the name of your first sports team?",
    "movie": "What was the first film you saw in a cinema?",
    "song": "What song did you dance to at your first dance?",
    "street_number": "What was the house number of your childhood home?",
}

# a person registers at least the policy's `questions.to_register`, and at most one answer
# for each predefined question (custom ones count towards it)
MAX_REGISTERED = len(PREDEFINED)
ANSWER_MIN = 3
ANSWER_MAX = 40
CUSTOM_MIN = 3
CUSTOM_MAX = 200


def question_text(question_id: str, custom_text: str | None) -> str:
    return custom_text if custom_text else PREDEFINED.get(question_id, question_id)


def validate_entries(entries: list[tuple[str, str | None, str]], count: int,
                     most: int | None = None) -> list[str]:
    """Check (question_id, custom_text, answer) triples; return every problem found.

    Rules: at least `count` distinct questions and at most `most` (default: the pool's size;
    more registered questions make a bigger pool for resets to draw from, as Entra allows),
    answers 3-40 characters after normalisation, no two answers alike, an answer may not
    contain its question's words.
    """
    most = MAX_REGISTERED if most is None else most
    problems: list[str] = []
    if not count <= len(entries) <= most:
        problems.append(f"answer {count} to {most} questions (got {len(entries)})")
    seen_questions: set[str] = set()
    seen_answers: set[str] = set()
    for index, (qid, custom, answer) in enumerate(entries, start=1):
        label = f"question {index}"
        if custom is not None:
            text = custom.strip()
            if not CUSTOM_MIN <= len(text) <= CUSTOM_MAX or has_control_chars(text):
                problems.append(f"{label}: a custom question must be {CUSTOM_MIN}-{CUSTOM_MAX} "
                                "printable characters")
                continue
            key = "custom:" + normalize_answer(text)
        elif qid in PREDEFINED:
            text = PREDEFINED[qid]
            key = qid
        else:
            problems.append(f"{label}: unknown question")
            continue
        if key in seen_questions:
            problems.append(f"{label}: the same question is chosen twice")
        seen_questions.add(key)
        if has_control_chars(answer):
            problems.append(f"{label}: the answer contains control characters")
            continue
        norm = normalize_answer(answer)
        if not ANSWER_MIN <= len(norm) <= ANSWER_MAX:
            problems.append(f"{label}: an answer must be {ANSWER_MIN}-{ANSWER_MAX} characters")
            continue
        if norm in seen_answers:
            problems.append(f"{label}: two answers may not be the same")
        seen_answers.add(norm)
        if any(word in norm for word in words(text)):
            problems.append(f"{label}: the answer may not contain words of its question")
    return problems
