"""Labeling functions for the stance toward deploying troops to Ukraine.

Each function implements one cue of ``annotation-guidelines.md`` *with its scope*: a
rule-out phrase under negation is not a rule-out, a keep-it-open phrase with a condition
is not plain support, troops sent elsewhere or fighting on either side are not
deployment. The cues are computed once per sentence in :class:`DeploymentView`; the
functions combine them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

from pipeline.ingest import normalize_text
from pipeline.labeling.base import LabelingFunction, LabelingSuite


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


# Who/what is deployed: personnel, not weapons (guideline: "The unit").
PERSONNEL = _rx(
    r"\b(troops?|soldiers?|servicem[ae]n|servicewomen|service members|military personnel|personnel|"
    r"boots on the ground|ground forces|forces|contingents?|peace ?keep\w*|instructors?|trainers?|"
    r"military advis[eo]rs?|reassurance force|stabili[sz]ation force|(?:our|their|its|his) (?:own )?military|"
    r"sons and daughters|army|armed forces|brigades?|battalions?|units|deminers?|marines|paratroopers|"
    r"legionnaires|special forces|military mission|training mission|military presence|a force|"
    r"(?:nato|western|european|foreign|international|allied|multinational) (?:presence|force|mission|contingent))\b"
)
SEND = _rx(
    r"\b(send\w*|sent|dispatch\w*|deploy\w*|station\w*|put\w*|commit\w*|contribut\w*|go(?:es|ing)? (?:to|into|in)|"
    r"boots on the ground|on the ground|participat\w+|join\w*|provid\w+|offer\w*|enter\w*|fight\w* (?:in|for)|"
    r"based in|presence in|mission (?:in|to)|on ukrainian (?:soil|territory))\b"
)
UKRAINE = _rx(r"\b(ukrain\w*|kyiv|kiev|donbas\w*|the front(?: ?lines?)?|the war zone|the country)\b")
DEPLOYMENT_NOUN = _rx(
    r"\b(deployment|boots on the ground|peace ?keep\w*|reassurance force|ground troops|troops|"
    r"(?:nato|western|european|foreign|international|allied|multinational) (?:presence|force|mission|contingent))\b"
)

# Forces fighting in the war, or troops sent to NATO's own territory: not deployment (guideline: who is deployed).
COMBATANT = _rx(
    r"\b(russian|ukrainian|ukraine's|russia's|north korean|belarusian|kremlin's|putin's|moscow's|kyiv's|"
    r"chechen|wagner|separatist|pro-russian|enemy|occupying|invading)\s+(?:[\w-]+\s+){0,2}"
    r"(troops|forces|soldiers|army|units|servicemen|military|brigades?|fighters|contingents?)\b"
)
WARRING_ACTOR = _rx(r"\b(lukashenko|belarus\w*|minsk|chechnya|kadyrov|wagner|csto)\b")
ELSEWHERE = _rx(
    r"\b(?:to|in|into|on|across|along)\s+(?:the\s+)?(poland|romania|slovakia|hungary|bulgaria|lithuania|latvia|estonia|"
    r"the baltics?|baltic states|germany|nato(?:'s)? (?:eastern )?(?:flank|territory|soil|members?)|eastern flank|"
    r"allied territory|europe|eastern europe\w*|(?:eastern )?nato members?|members of (?:the )?nato|moldova|finland|sweden|the region)\b"
)

# Stance cues (guideline: Labels table and edge cases).
NEGATED_RULE_OUT = _rx(
    r"\b(?:not|n't|never|nothing|cannot|can ?not|refus\w+ to|declin\w+ to|no one|unwilling to|won't|wouldn't|"
    r"no (?:option|options|possibility|scenario))\s+(?:\w+\s+){0,3}?(?:be\s+)?(?:rul\w+ (?:\w+ )?out|exclud\w+)"
)
RULE_OUT = _rx(
    r"(no (?:\w+ ){0,2}plans? (?:\w+ ){0,2}to (?:send|deploy|put|station|dispatch|commit)|"
    r"(?:will|would|shall|should|must|could|can|do|does|did|was|is|are|were) (?:\w+ )?not (?:\w+ ){0,2}(?:send|deploy|put|be sending|be deploying|dispatch|station|commit|"
    r"go|join|contribute|enter)|"
    r"(?:send|sending|deploy|deploying) (?:no|neither) |not (?:\w+ ){0,2}require (?:\w+ )?(?:troops|soldiers)|"
    r"(?:does|do|did) not want (?:\w+ ){0,2}(?:troops|soldiers|boots)|not asking (?:\w+ ){0,3}for (?:troops|soldiers)|"
    r"not (?:agree|in favou?r) (?:with|of) (?:sending|deploying)|not on (?:\w+'s |the |its |their )?agenda|"
    r"(?:do|does|did) not (?:believe|think) .{0,40}\b(?:should|would|must) (?:enter|go|be sent|be deployed|send|deploy)|"
    r"(?:would|will|is|was) (?:be )?(?:madness|folly|a (?:grave |serious |huge )?mistake|irresponsible|reckless|suicidal)|"
    r"least effective option|no point in|"
    r"(?:won't|wouldn't|don't|doesn't|didn't|can't) (?:\w+ ){0,2}(?:send|deploy|put|be sending|commit|go|join|contribute)|"
    r"not (?:going|planning|prepared|preparing|ready|willing|intending) to (?:send|deploy|put|commit|contribute)|"
    r"out of the question|not on the (?:agenda|table)|off the table|"
    r"\brul(?:e|es|ed|ing) out\b|\bexclud(?:e|es|ed|ing)\b|"
    r"reject\w* (?:\w+ ){0,3}(?:idea|sending|calls?|proposals?|deploying|suggestions?|deployment|possibility)|"
    r"no (?:ground|combat|western|nato|american|us|u\.s\.|british|german|french|polish|italian|foreign|european) (?:ground )?troops|"
    r"never (?:send|deploy|put)|refus\w+ to (?:send|deploy|commit|put)|oppos\w+ (?:\w+ )?(?:sending|deploying|deployment|the idea)|"
    r"against (?:sending|deploying|the deployment|any deployment)|no intention (?:\w+ ){0,2}(?:send|deploy|sending|deploying)|"
    r"(?:is|was|remains) not an option|no question of|will not happen|not be sent|not be deployed|"
    r"(?:is|was|are) not (?:being )?(?:considered|discussed|contemplated)|"
    r"no (?:troops|soldiers) (?:will|would|are going)|not a single (?:soldier|troop))"
)
STRONG_OPENNESS = _rx(
    r"(all (?:the )?options (?:are|remain|were|stay|must remain|should remain|should be) (?:on the table|open)|"
    r"keep(?:ing|s)? (?:all )?(?:the )?options open|options on the table|strategic ambiguity|not unthinkable|no taboo|not taboo)"
)
OPENNESS = _rx(
    r"(all (?:the )?options (?:are|remain|were|stay|must remain|should remain|should be) (?:on the table|open)|"
    r"keep(?:ing|s)? (?:all )?(?:the )?options open|options on the table|strategic ambiguity|"
    r"(?:ready|prepared|willing|open) to (?:send|deploy|put|commit|contribute|dispatch|consider sending|the idea)|"
    r"(?:will|would|could|should|must|may) (?:\w+ )?(?:send|deploy|dispatch|put) (?:\w+ ){0,3}(?:troops|soldiers|forces|boots|personnel|military)|"
    r"in favou?r of (?:sending|deploying)|supports? (?:sending|deploying|the idea)|call\w* for (?:sending|deploying|the deployment)|"
    r"consider\w* (?:sending|deploying|the deployment|dispatching)|(?:discuss|explor|weigh)\w* (?:sending|deploying|the possibility)|"
    r"(?:ready|willing|prepared|offered) to (?:join|lead|take part)|offered (?:\w+ )?participation|open mind|"
    r"not (?:to )?close the door|(?:will|would) (?:\w+ ){0,4}have to be (?:deployed|sent)|"
    r"not unthinkable|not taboo|no taboo|should not be taboo|cannot be excluded|can't be excluded)"
)
CONDITION = _rx(
    r"(\bif\b|\bunless\b|\bprovided\b|\bonly\b(?: \w+){0,3} (?:after|if|when|with|as|under|within|once|in)\b|"
    r"\bonce (?:a |the )?(?:ceasefire|peace|truce|deal|war|fighting|hostilities)|"
    r"\b(?:after|following) (?:a |the |any )?(?:ceasefire|peace|truce|deal|war ends|end of)|post-(?:ceasefire|war|conflict)|"
    r"\bin the event\b|\bon condition\b|\bconditions?\b|\bwithin (?:the|a|an) (?:framework|coalition|nato|un|european|multinational|international)|"
    r"\bunder (?:a|an|the) (?:un|u\.n\.|nato|european|eu|international|multinational) (?:mandate|umbrella|flag|framework|command)|"
    r"\bas part of (?:a|an|any|the) (?:[\w-]+ ){0,3}(?:coalition|force|mission|contingent|framework|effort)|"
    r"\bas part of (?:a|an|any) (?:coalition|international|european|multinational|peace|nato|broader)|\bbefore any\b|"
    r"\b(?:backstop|guarantees?|security guarantee|air cover|mandate|invitation|at kyiv's request|at the request)\b|"
    r"\b(?:to (?:monitor|police|secure|guarantee|uphold|enforce|underpin|support) (?:a|any|the) (?:ceasefire|peace|truce|settlement|deal))|"
    r"\bwhen the (?:war|fighting|guns)|\bceasefire line\b)"
)
NON_COMBAT = _rx(
    r"(not (?:\w+ )?(?:take part|taking part|took part|participate|participating|be involved|being involved|engage|fight)\w* in (?:the )?(?:fighting|combat|hostilities)|"
    r"(?:would|will) not fight|not (?:be )?a combat (?:mission|role)|not involve (?:combat|fighting)|non-combat|"
    r"without (?:being involved in|taking part in|engaging in) (?:the )?(?:hostilities|combat|fighting)|away from the (?:front|fighting))"
)
LIMITED_ROLE = _rx(
    r"(instructors?|trainers?|training (?:mission|personnel|role|purposes)|support personnel|deminers?|demining|non-combat|"
    r"(?:training|demining) missions?|to train (?:the )?ukrain\w*|"
    r"not (?:be )?(?:directly )?involved in (?:the )?(?:hostilities|combat|fighting)|without (?:being involved in|taking part in|engaging in) "
    r"(?:the )?(?:hostilities|combat|fighting)|away from the front|far from the front|behind the front|"
    r"(?:logistics|medical|engineering|cyber|maintenance) (?:personnel|support|role|staff)|protect\w* (?:infrastructure|borders|nuclear|ports|airspace)|"
    r"not (?:in )?a combat role|non-fighting|rear (?:areas|positions))"
)
OPPONENT_SPEAKER = _rx(
    r"\b(kremlin|peskov|lavrov|medvedev|zakharova|putin|moscow|shoigu|nebenzia|volodin|belousov|ryabkov|grushko|"
    r"russian (?:foreign|defen[cs]e) ministry|russian officials?|russian diplomats?|russian ambassador|russian state (?:television|media|tv)|"
    r"russia (?:has )?(?:said|says|warned|warns)|moscow has)\b"
)
THREAT = _rx(
    r"(legitimate targets?|(?:direct|open) (?:military )?(?:conflict|confrontation|clash|war)|would be (?:destroyed|targeted|hit|treated)|"
    r"declaration of war|unacceptable|categorically|provocation|escalat\w+|red line|world war|nuclear|target(?:s|ed)? for|"
    r"party to the conflict|participants? in the conflict|retaliat\w+|respond\w* (?:with|by)|consequences|inevitabl\w+|"
    r"treated as|occupation|a threat)"
)
WEAPONS_NOT_SOLDIERS = _rx(
    r"((?:weapons|arms|equipment|money|aid|ammunition|support|help|assistance|air defen[cs]e|funding)\b,? (?:but |and )?"
    r"(?:not|rather than|instead of|but no|but not) (?:\w+ )?(?:troops|soldiers|boots|personnel|forces)|"
    r"(?:troops|soldiers|boots on the ground)\b,? (?:no|never)\b|"
    r"(?:instead of|rather than) (?:sending )?(?:troops|soldiers|boots))"
)
NO_PLANS = _rx(r"\bno (?:\w+ ){0,2}plans?\b")
BUT_KEEP_OPEN = _rx(
    r"\bbut\b.*\b(ambiguity|possibility|option|options|not (?:be )?ruled out|exclude|open|table|door|mistake|never do)\b"
)
MEANS_WAR = _rx(
    r"\b(?:would|will|could|might)\s+(?:\w+\s+){0,2}(?:risk|mean|lead to|amount to|be treated as|trigger|provoke|drag|make)\s+"
    r"(?:\w+\s+){0,4}(?:war|conflict|escalation|confrontation|targets?|threat|occupation|party to the conflict|co-belligerent)"
)
QUESTION_REPORT = _rx(
    r"^(?:asked|when asked|the question|questions? (?:remain|arise)|it (?:is|was|remains) unclear|it is not clear)\b|"
    r"\b(?:asked|wondered|question(?:ed)?) (?:whether|if|how|when)\b|\b(?:agree|decide|decided|debate|debated|undecided) (?:on |over |about )?whether\b"
)
ANSWER_VERB = _rx(r"\b(said|says|replied|answered|responded|insisted|stressed|told)\b")
CONSENSUS = _rx(
    r"\b(no consensus|not (?:a |any )?consensus|lack of (?:a )?consensus|(?:divided|split|disagree\w*|divisions?) (?:on|over|about)|"
    r"debate (?:on|over|about)|no agreement (?:on|over)|differ\w* (?:on|over))\b"
)
OWN_POSITION = _rx(r"\b(i|we|our|my)\b")


@dataclass(frozen=True)
class DeploymentView:
    """The cues of one sentence, computed lazily and shared by all labeling functions."""

    text: str

    @cached_property
    def norm(self) -> str:
        return normalize_text(self.text)

    def has(self, pattern: re.Pattern[str]) -> bool:
        return pattern.search(self.norm) is not None

    @cached_property
    def personnel(self) -> bool:
        return self.has(PERSONNEL)

    @cached_property
    def combatants_only(self) -> bool:
        """Every personnel mention is a warring side's own forces."""
        stripped = COMBATANT.sub(" ", self.norm)
        return self.has(COMBATANT) and PERSONNEL.search(stripped) is None

    @cached_property
    def sent_elsewhere(self) -> bool:
        """Personnel are sent to NATO territory, not into Ukraine."""
        return self.has(ELSEWHERE) and not re.search(
            r"\b(?:to|in|into|inside|on)\s+(?:\w+\s+)?(?:ukrain\w*|kyiv|kiev)", self.norm
        )

    @cached_property
    def warring_actor(self) -> bool:
        """The actor is a warring side or its ally (Belarus, Wagner): not a deployment."""
        return self.has(WARRING_ACTOR)

    @cached_property
    def deployment(self) -> bool:
        """The sentence speaks of (Western or own) personnel going into Ukraine."""
        if not self.personnel or self.combatants_only or self.warring_actor:
            return False
        return self.has(DEPLOYMENT_NOUN) or (self.has(SEND) and (self.has(UKRAINE) or self.has(PERSONNEL)))

    def _first(self, pattern: re.Pattern[str]) -> int:
        match = pattern.search(self.norm)
        return match.start() if match else len(self.norm) + 1

    @cached_property
    def _rule_out_at(self) -> int:
        """Where the first rule-out cue that is not itself a negated rule-out starts."""
        masked = NEGATED_RULE_OUT.sub(lambda m: "#" * len(m.group()), self.norm)
        match = RULE_OUT.search(masked)
        return match.start() if match else len(self.norm) + 1

    @cached_property
    def negated_rule_out(self) -> bool:
        """'does not rule out' and kin, unless a plain rule-out comes first (the main
        clause: 'partners said they had no intention ..., after Macron declined to exclude')."""
        return self.has(NEGATED_RULE_OUT) and self._first(NEGATED_RULE_OUT) < self._rule_out_at

    @cached_property
    def rule_out(self) -> bool:
        return self._rule_out_at <= len(self.norm) and not self.negated_rule_out

    @cached_property
    def openness(self) -> bool:
        return self.has(OPENNESS) or self.negated_rule_out

    @cached_property
    def condition(self) -> bool:
        return self.has(CONDITION)

    @cached_property
    def limited_role(self) -> bool:
        return self.has(LIMITED_ROLE) or self.has(NON_COMBAT)

    @cached_property
    def question(self) -> bool:
        """A question or a reported question without its answer (edge case 6)."""
        asked = self.text.rstrip().rstrip("\"\u201d'").endswith("?") or self.has(QUESTION_REPORT)
        answered = self.has(ANSWER_VERB) and (self.rule_out or self.negated_rule_out)
        return asked and not answered and not self.text.lstrip().startswith(('"', "\u201c"))

    @cached_property
    def stance_cue(self) -> bool:
        return self.openness or self.rule_out or self.has(THREAT) or self.has(WEAPONS_NOT_SOLDIERS)


def view(text: str) -> DeploymentView:
    return DeploymentView(text)


# ---- support ---------------------------------------------------------------------------


def _negated_rule_out(v: DeploymentView) -> bool:
    topical = v.deployment or v.personnel or any(w in v.norm for w in ("option", "possibility", "nothing"))
    return (
        v.negated_rule_out and topical and not v.condition and not v.limited_role and not v.sent_elsewhere and not v.warring_actor
    )


def _options_open(v: DeploymentView) -> bool:
    return (
        (v.has(STRONG_OPENNESS) or (v.has(OPENNESS) and v.personnel))
        and not v.negated_rule_out
        and not v.rule_out
        and not v.condition
        and not v.limited_role
        and not v.combatants_only
        and not v.question
        and not v.sent_elsewhere
        and not v.warring_actor
    )


def _no_plans_but_open(v: DeploymentView) -> bool:
    return v.deployment and v.has(NO_PLANS) and v.has(BUT_KEEP_OPEN) and not v.condition


# ---- conditional -----------------------------------------------------------------------


def _open_with_condition(v: DeploymentView) -> bool:
    return (
        (v.deployment or (v.openness and v.personnel))
        and v.condition
        and not v.rule_out
        and not v.sent_elsewhere
        and not v.question
    )


def _limited_role(v: DeploymentView) -> bool:
    explicit = v.has(NON_COMBAT) and (v.personnel or "mission" in v.norm)
    role = v.limited_role and (v.has(SEND) or v.openness)
    return (explicit or role) and not v.rule_out and not v.sent_elsewhere and not v.combatants_only and not v.warring_actor


# ---- rule_out --------------------------------------------------------------------------


def _rule_out_statement(v: DeploymentView) -> bool:
    if not v.rule_out or not (v.deployment or v.personnel) or v.warring_actor or v.limited_role:
        return False
    if v.has(NO_PLANS) and v.has(BUT_KEEP_OPEN):
        return False
    return not v.combatants_only and not v.sent_elsewhere and not v.question


def _opponent_threat(v: DeploymentView) -> bool:
    return v.has(OPPONENT_SPEAKER) and v.has(THREAT) and v.deployment


def _deployment_means_war(v: DeploymentView) -> bool:
    return v.deployment and v.has(MEANS_WAR) and not v.negated_rule_out and not v.question


def _weapons_not_soldiers(v: DeploymentView) -> bool:
    return v.has(WEAPONS_NOT_SOLDIERS)


# ---- none ------------------------------------------------------------------------------


def _no_deployment_mention(v: DeploymentView) -> bool:
    return not v.personnel and not v.stance_cue and not v.condition


def _warring_forces(v: DeploymentView) -> bool:
    return v.combatants_only and not v.stance_cue


def _troops_elsewhere(v: DeploymentView) -> bool:
    return v.personnel and v.sent_elsewhere and not v.rule_out and not v.openness


def _journalist_question(v: DeploymentView) -> bool:
    return v.question


def _reported_consensus(v: DeploymentView) -> bool:
    return v.has(CONSENSUS) and not v.has(OWN_POSITION)


def _other_aid_only(v: DeploymentView) -> bool:
    return (
        v.has(
            _rx(r"\b(weapons|arms|ammunition|shells|missiles|air defen[cs]e|tanks|jets|aid|billion|sanctions|funding|loans?)\b")
        )
        and not v.personnel
        and not v.stance_cue
    )


SUITE = LabelingSuite(
    name="deployment",
    make_view=view,
    functions=(
        LabelingFunction("negated_rule_out", "support", "Edge case 1: negated rule-out is support", _negated_rule_out),
        LabelingFunction("options_open", "support", "Labels: support keeps deployment open without conditions", _options_open),
        LabelingFunction(
            "no_plans_but_open", "support", "Edge case 4: 'no plans ... but' keeping it open is support", _no_plans_but_open
        ),
        LabelingFunction("open_with_condition", "conditional", "Edge case 2: condition beats openness", _open_with_condition),
        LabelingFunction("limited_role", "conditional", "Edge case 3: a non-combat role is a condition", _limited_role),
        LabelingFunction(
            "rule_out_statement",
            "rule_out",
            "Labels: rule_out rejects deployment; edge case 4 'no plans' alone",
            _rule_out_statement,
        ),
        LabelingFunction(
            "opponent_threat", "rule_out", "Edge case 7: threats by the opposing side are rule_out", _opponent_threat
        ),
        LabelingFunction(
            "deployment_means_war",
            "rule_out",
            "Edge case 7: deployment 'would mean war / be targets' rejects it",
            _deployment_means_war,
        ),
        LabelingFunction(
            "weapons_not_soldiers", "rule_out", "Edge case 5: 'weapons, not soldiers' is rule_out", _weapons_not_soldiers
        ),
        LabelingFunction(
            "no_deployment_mention", "none", "Unit: weapons, money and other aid are not deployment", _no_deployment_mention
        ),
        LabelingFunction(
            "warring_forces", "none", "Unit: Russian or Ukrainian forces fighting are not deployment", _warring_forces
        ),
        LabelingFunction(
            "troops_elsewhere", "none", "Unit: troops sent to NATO territory are not deployment into Ukraine", _troops_elsewhere
        ),
        LabelingFunction(
            "journalist_question", "none", "Edge case 6: a journalist's question carries no stance", _journalist_question
        ),
        LabelingFunction("reported_consensus", "none", "Edge case 8: reported (lack of) consensus is none", _reported_consensus),
        LabelingFunction("other_aid_only", "none", "Edge case 5: priority elsewhere alone is none", _other_aid_only),
    ),
)
