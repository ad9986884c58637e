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
# The map: the sections in learning order (numbered), three to a row with arrows; each section is a
# box of links to its pages (also in order). Plain Streamlit elements: a graph layout in the
# browser (st.graphviz_chart) cost about 330 ms on every rerun of this page.
NUMBERS = "①②③④⑤⑥⑦⑧⑨"
shown = [s for s in SECTIONS[1:] if any(p.section == s for p in pages)]


def _link(p):
    """A page link; outside st.navigation (AppTest runs this file alone) a plain markdown link."""
    label = t(f"nav.page.{p.key}")
    try:
        st.page_link(str(p.path), label=label, icon=p.icon)
    except st.errors.StreamlitAPIException:  # StreamlitPageNotFoundError is one
        st.markdown(f"[{label}](./{p.key})")


for row_start in range(0, len(shown), 3):
    row = shown[row_start:row_start + 3]
    cols = st.columns([1, 0.12, 1, 0.12, 1], vertical_alignment="center")
    for i, section in enumerate(row):
        n = row_start + i
        with cols[2 * i].container(border=True):
            st.markdown(f"**{NUMBERS[n]} {t(f'nav.section.{section}')}**")
            for p in pages:
                if p.section == section:
                    _link(p)
        if i + 1 < len(row):
            cols[2 * i + 1].markdown("### →")

st.subheader(t("home.class_title"))
st.markdown(t("home.class_text"))
st.info(t("common.share_link"), icon=":material/link:")
