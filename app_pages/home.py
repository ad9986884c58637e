"""Home: what BigModel Lab is, the learning path as a map of the pages, how to use it in class."""
import streamlit as st

from app_pages._ui import SECTIONS, available_pages, t

st.title(t("app.title"))
st.markdown(f"#### {t('app.tagline')}")
st.markdown(t("home.what"))

pages = [p for p in available_pages() if p.key != "home"]
st.metric(t("home.pages_ready"), len(pages))

st.subheader(t("home.path_title"))
st.caption(t("home.path_caption"))
# The map: sections left to right in learning order, each page a node that links to it.
dot = ["digraph path {", "rankdir=LR; bgcolor=transparent;",
       'node [shape=box, style="rounded,filled", fillcolor="#eef3ff", color="#4a6fe3", fontname="sans-serif"];']
previous = None
for section in SECTIONS[1:]:
    members = [p for p in pages if p.section == section]
    if not members:
        continue
    dot.append(f'subgraph cluster_{section} {{ label="{t(f"nav.section.{section}")}"; color="#bbbbbb";')
    dot += [f'"{p.key}" [label="{t(f"nav.page.{p.key}")}", URL="./{p.key}", target="_top"];' for p in members]
    dot.append("}")
    if previous:
        dot.append(f'"{previous}" -> "{members[0].key}";')
    dot += [f'"{a.key}" -> "{b.key}";' for a, b in zip(members, members[1:])]
    previous = members[-1].key
dot.append("}")
if pages:
    st.graphviz_chart("\n".join(dot), width="content")

def _link(p):
    """A page link; outside st.navigation (AppTest runs this file alone) a plain markdown link."""
    label = t(f"nav.page.{p.key}")
    try:
        st.page_link(str(p.path), label=label, icon=p.icon)
    except st.errors.StreamlitAPIException:  # StreamlitPageNotFoundError is one
        st.markdown(f"[{label}](./{p.key})")


cols = st.columns(3)
for i, section in enumerate([s for s in SECTIONS[1:] if any(p.section == s for p in pages)]):
    with cols[i % 3]:
        st.markdown(f"**{t(f'nav.section.{section}')}**")
        for p in pages:
            if p.section == section:
                _link(p)

st.subheader(t("home.class_title"))
st.markdown(t("home.class_text"))
st.info(t("common.share_link"), icon=":material/link:")
