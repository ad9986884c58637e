"""Every picture the app draws: data in, a chart (Altair / Vega-Lite dict) or an image out. No Streamlit.

Layout:
- `spec`: what every chart shares: the one heat-map builder (`matrix_spec`, a Vega-Lite dict over
  named data), `line_chart`, the house style (`FONT`, `STYLE`), the Altair-to-dict conversion
  (`to_spec`, `to_live_spec`) and the Arrow serializer `_ui.vega` sends data with.
- `images`: arrays to colours, tiles, upscaled pictures and PNG data URLs.
- one module per concept (`attention`, `autoencoder`, `cnn`, `compression`, `curves` for the
  activation and loss curves, `landscape`, `llm`, `regularization`, `robustness`, `scale`, `windows`
  for the convolution and pooling windows): the charts of that concept's pages, built on the two above.

Which kind of picture, the rule the code follows:
1. Altair by default (`_ui.altair` puts it on screen): readable, declarative, enough for a chart that
   is drawn once per server rerun.
2. A fixed Vega-Lite dict over named data (`_ui.vega`, data sent as Arrow) when the chart redraws on
   every key press: the spec stays byte-identical between reruns, so the browser only swaps the data.
3. A picture (`images`, `st.image`) above 5,000 cells: Vega-Lite gets slow and Altair refuses more
   inline rows.
4. A client-side explorable (`app_pages/components/*.js`, the instant-interactions issue) when the
   browser can do the arithmetic itself (it only re-arranges data already sent): no rerun at all.

Pages import the module they need (`from bigmodel_core.charts import cnn`, or names from it); this
package re-exports nothing, so each name has one home.
"""
