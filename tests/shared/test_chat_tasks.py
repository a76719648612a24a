"""Task prompts (Open WebUI's template variables) and reading the model's JSON answers."""
from __future__ import annotations

from datetime import datetime

import pytest

from shared.db import session_scope
from shared.services import app_config
from shared.services.chats import reply_tasks

CONVERSATION = [
    {"role": "user", "content": "one"}, {"role": "assistant", "content": "two"},
    {"role": "user", "content": [{"type": "text", "text": "three"}, {"type": "image_url", "image_url": {}}]},
    {"role": "assistant", "content": "four"},
]


@pytest.mark.parametrize(("template", "expected"), [
    ("{{MESSAGES}}", "USER: one\nASSISTANT: two\nUSER: three\nASSISTANT: four"),
    ("{{MESSAGES:END:2}}", "USER: three\nASSISTANT: four"),
    ("{{MESSAGES:START:1}}", "USER: one"),
    ("{{MESSAGES:MIDDLETRUNCATE:2}}", "USER: one\nASSISTANT: four"),
    ("{{MESSAGES:END:1|middletruncate:20}}", "ASSISTANT: four"),
    ("Last: {{prompt}}", "Last: three"),
    ("{{MESSAGES:START:2|start:2}}", "USER: on\nASSISTANT: tw"),
    ("{{MESSAGES|end:1}}", "USER: e\nASSISTANT: o\nUSER: e\nASSISTANT: r"),
    ("{{MESSAGES:END:1|middletruncate:3}}", "ASSISTANT: f...ur"),
    ("{{PROMPT}} {{prompt:start:2}} {{Prompt:END:1}} {{prompt:middletruncate:4}}", "three th e th...ee"),
    ("{{USER_NAME}} {{unknown}}", "{{USER_NAME}} {{unknown}}"),
])
def test_render_fills_open_webui_variables(template, expected):
    assert reply_tasks.render(template, CONVERSATION) == expected


def test_render_fills_the_date_the_prompt_given_and_the_task_s_values_in_one_pass():
    today = datetime.now().strftime("%Y-%m-%d")
    assert reply_tasks.render("{{CURRENT_DATE}}", []) == today
    rendered = reply_tasks.render("<type>{{TYPE}}</type> {{prompt}}: {{responses}}", CONVERSATION,
                                  prompt="quoting {{TYPE}}", values={"TYPE": "General", "responses": "{{prompt}}"})
    assert rendered == "<type>General</type> quoting {{TYPE}}: {{prompt}}"


def test_default_templates_ask_for_json_over_the_recent_messages():
    prompt = reply_tasks.render(reply_tasks.TITLE.template.default, CONVERSATION)
    assert '"title"' in prompt and "USER: three\nASSISTANT: four" in prompt and "USER: one" not in prompt


@pytest.mark.parametrize(("task", "answer", "value"), [
    (reply_tasks.TITLE, '{"title": "Cookie Recipes"}', "Cookie Recipes"),
    (reply_tasks.TITLE, 'Sure! ```json\n{ "title": "Stock Trends" }\n```', "Stock Trends"),
    (reply_tasks.TITLE, '{"title": ""}', None),
    (reply_tasks.TITLE, "no json here", None),
    (reply_tasks.TITLE, '{"title": ', None),
    (reply_tasks.TAGS, '{"tags": ["Science", " Physics ", 3, ""]}', ["Science", "Physics"]),
    (reply_tasks.TAGS, '{"tags": "Science"}', None),
    (reply_tasks.FOLLOW_UPS, '{"follow_ups": ["Why?", "How?"]}', ["Why?", "How?"]),
    (reply_tasks.FOLLOW_UPS, '["Why?"]', None),
])
def test_parse_answer(task, answer, value):
    assert reply_tasks.parse_answer(answer, task) == value


def test_wanted_needs_both_the_request_and_the_admin_switch(database):
    with session_scope() as session:
        asked = {"title_generation": True, "tags_generation": True, "follow_up_generation": False}
        assert [t.name for t in reply_tasks.wanted(session, asked)] == ["title_generation", "tags_generation"]
        app_config.set_many(session, {"task.tags.enable": False})
        assert [t.name for t in reply_tasks.wanted(session, asked)] == ["title_generation"]


def test_custom_template_and_task_model(database):
    with session_scope() as session:
        assert reply_tasks.template_for(session, reply_tasks.TITLE.template) == reply_tasks.TITLE.template.default
        assert reply_tasks.task_model(session, "llama") == "llama"
        reply_tasks.update_task_config(session, {"TITLE_GENERATION_PROMPT_TEMPLATE": "T {{MESSAGES}}",
                                                "TASK_MODEL": "small", "NOT_A_KEY": 1})
        assert reply_tasks.template_for(session, reply_tasks.TITLE.template) == "T {{MESSAGES}}"
        assert reply_tasks.task_model(session, "llama") == "small"
