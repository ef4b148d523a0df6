"""Import a trial from the text of a registry or recruitment web page that a person copied.

People paste what they see on ClinicalTrials.gov mirrors, hospital "take part" pages, trial-finder
sites and other registries. The wording and order differ from site to site, but the structure
is shared, so this package reads the structure and never the particular page:

* headed sections: a short line (any case, with or without a colon, markdown ``#`` or an
  underline) followed by its content, up to the next heading;
* label/value pairs: "Label: value", tables flattened to "Label<TAB>value" or "| Label | value |",
  "Label value" rows of a flattened table, and a label on one line with its value on the next;
* bulleted or numbered lists (criteria, conditions, sites).

Which line is a label is decided by a vocabulary kept as data (``labels.json``), so a new
layout is taught by adding its labels there. Values are mapped to ClinicalTrials.gov API v2
spellings, like every other source. Whatever the page does not state stays None / [] — the
importer never fills a field from a guess.

The work is done in stages, one module each: ``vocab`` (labels and value spellings), ``lines``
(cleaning and label detection), ``sections`` (headed sections and generic readers), the field
readers ``values``, ``dates``, ``ages``, ``people``, ``sites``, ``design``, ``eligibility``,
``title`` and ``ids``, and ``build``, which assembles the Trial. ``agreement`` measures how far an
imported trial agrees with a reference record of the same trial.
"""

from .build import read_page, trial_from_page

__all__ = ["read_page", "trial_from_page"]
