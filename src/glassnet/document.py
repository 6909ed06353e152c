"""A tiny document model — headings, worked lines, tables — with text, Markdown and HTML renderers (ground floor).

The trace and the seed explanations build one list of blocks; each renderer formats the same blocks, so
the terminal, a README and the web page show the same numbers.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field


def fmt(value, digits: int = 6) -> str:
    """A number as a reader would write it: 1, 0.6, -4, 1.4112, 3.2e-07."""
    value = float(value)
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    return text.replace("e-0", "e-").replace("e+0", "e+")


@dataclass
class Document:
    """A small structured document — headings, paragraphs, lines of arithmetic, tables — that renders the same
    content as plain text, Markdown or HTML. The trace and the seed examples are written as Documents."""

    blocks: list = field(default_factory=list)

    def heading(self, text: str, level: int = 2) -> "Document":
        """Add a heading (level 1 is the title); returns the document, so calls chain."""
        self.blocks.append(("heading", level, text))
        return self

    def lines(self, lines) -> "Document":
        """Add lines shown as they are (monospaced: arithmetic written out)."""
        self.blocks.append(("lines", list(lines)))
        return self

    def text(self, paragraph: str) -> "Document":
        """Add a paragraph of prose."""
        self.blocks.append(("text", paragraph))
        return self

    def table(self, headers, rows) -> "Document":
        """Add a table: ``headers`` and ``rows`` (every cell shown with ``str``)."""
        self.blocks.append(("table", list(headers), [list(map(str, r)) for r in rows]))
        return self

    def extend(self, other: "Document") -> "Document":
        """Append every block of ``other``."""
        self.blocks.extend(other.blocks)
        return self

    # ---- renderers ---------------------------------------------------------------------------------
    def to_text(self) -> str:
        """Plain text: headings underlined, tables aligned in columns."""
        out = []
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                underline = "=" if block[1] <= 1 else "-"
                out += ["", block[2], underline * len(block[2])]
            elif kind == "lines":
                out += ["  " + line for line in block[1]]
            elif kind == "text":
                out += ["", block[1]]
            else:
                out += _aligned_table(block[1], block[2])
        return "\n".join(out).strip("\n") + "\n"

    def to_markdown(self) -> str:
        """Markdown: ``#`` headings, fenced lines, pipe tables."""
        out = []
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                out += ["", "#" * (block[1] + 1) + " " + block[2], ""]
            elif kind == "lines":
                out += ["```"] + block[1] + ["```", ""]
            elif kind == "text":
                out += [block[1], ""]
            else:
                out += [_markdown_row(block[1]), "|" + "---|" * len(block[1])]
                out += [_markdown_row(row) for row in block[2]]
                out.append("")
        return "\n".join(out).strip("\n") + "\n"

    def to_html(self) -> str:
        """An HTML fragment (``<div class="glassnet-doc">``) with every value escaped."""
        out = ['<div class="glassnet-doc">']
        for block in self.blocks:
            kind = block[0]
            if kind == "heading":
                level = min(block[1] + 1, 6)
                out.append(f"<h{level}>{html.escape(block[2])}</h{level}>")
            elif kind == "lines":
                out.append("<pre>" + html.escape("\n".join(block[1])) + "</pre>")
            elif kind == "text":
                out.append(f"<p>{html.escape(block[1])}</p>")
            else:
                head = "".join(f"<th>{html.escape(h)}</th>" for h in block[1])
                body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                               for row in block[2])
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        out.append("</div>")
        return "\n".join(out)

    def render(self, form: str = "text") -> str:
        """The document as ``"text"``, ``"markdown"`` or ``"html"``; another form is a ConfigError."""
        renderers = {"text": self.to_text, "markdown": self.to_markdown, "html": self.to_html}
        if form not in renderers:
            from .errors import ConfigError

            raise ConfigError(f"unknown format {form!r}; valid formats are: {', '.join(renderers)}")
        return renderers[form]()

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()


def _markdown_row(cells) -> str:
    """One Markdown table row; a "|" inside a cell (as in max |∂C/∂w|) is escaped so it stays one cell."""
    return "| " + " | ".join(str(cell).replace("|", "\\|") for cell in cells) + " |"


def _aligned_table(headers, rows) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]
    line = lambda cells: "  " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w)  # noqa: E731
                                          for i, (c, w) in enumerate(zip(cells, widths)))
    return [""] + [line(headers), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows]
