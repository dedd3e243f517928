"""A self-contained HTML view of a projection's ``--details`` records (``xlner report``).

One file, no network: inline CSS and JavaScript, the data embedded as JSON
and rendered client-side in pages of :data:`PAGE_SIZE` sentences. Each pair
shows the source and target tokens with entities coloured by label as
displaCy does, the alignment links drawn between them (links used by a span
in its label's colour), and scores on hover. With gold target spans,
predicted spans are marked correct / false positive, missed gold spans are
listed, and per-label precision, recall and F1 (:func:`xlner.metrics.evaluate_spans`)
head the page. Filters: label, minimum confidence, errors only.

Stable element ids (for scripts and tests): ``count-sentences``,
``total-sentences``, ``count-spans``, ``total-spans``, ``page-number``,
``page-count``, ``prev-page``, ``next-page``, ``filter-label``,
``filter-confidence``, ``filter-errors``, ``sentences``, ``metrics``.
"""

from __future__ import annotations

import html
import json
from typing import Any, Mapping, Sequence

from xlner.errors import InputError
from xlner.types import Sentence, Span

PAGE_SIZE = 50

#: displaCy's entity colours; PER shares PERSON's.
DISPLACY_COLORS: dict[str, str] = {
    "ORG": "#7aecec",
    "PRODUCT": "#bfeeb7",
    "GPE": "#feca74",
    "LOC": "#ff9561",
    "PERSON": "#aa9cfc",
    "PER": "#aa9cfc",
    "NORP": "#c887fb",
    "FAC": "#9cc9cc",
    "EVENT": "#ffeb80",
    "LAW": "#ff8197",
    "LANGUAGE": "#ff8197",
    "WORK_OF_ART": "#f0d0ff",
    "DATE": "#bfe1d9",
    "TIME": "#bfe1d9",
    "MONEY": "#e4e7d2",
    "QUANTITY": "#e4e7d2",
    "ORDINAL": "#e4e7d2",
    "CARDINAL": "#e4e7d2",
    "PERCENT": "#e4e7d2",
}
_SPARE = ["#ffeb80", "#bfeeb7", "#f0d0ff", "#c887fb", "#9cc9cc", "#feca74", "#ff8197", "#bfe1d9"]


def label_colors(labels: Sequence[str]) -> dict[str, str]:
    """displaCy's colour of each label; other labels (MISC, ...) get spare displaCy colours in turn."""
    colors, spare = {}, 0
    for label in sorted(set(labels)):
        if label in DISPLACY_COLORS:
            colors[label] = DISPLACY_COLORS[label]
        else:
            colors[label] = _SPARE[spare % len(_SPARE)]
            spare += 1
    return colors


def _gold_spans(records: Sequence[Mapping[str, Any]], gold: Sequence[Sentence]) -> list[list[Span]]:
    if len(gold) != len(records):
        raise InputError(
            f"the gold file has {len(gold)} sentences but the details have {len(records)}", getattr(gold, "path", None)
        )
    lines = getattr(gold, "lines", None)
    for k, (record, sentence) in enumerate(zip(records, gold)):
        if list(sentence.tokens) != list(record["tgt_tokens"]):
            line = lines[k] if lines and k < len(lines) else None
            raise InputError(
                f"sentence {k + 1}: gold tokens differ from the details' target tokens ({' '.join(sentence.tokens[:6])} ...)",
                getattr(gold, "path", None),
                line,
            )
    return [list(s.spans) for s in gold]


def report_data(records: Sequence[Mapping[str, Any]], gold: Sequence[Sentence] | None = None) -> dict[str, Any]:
    """The data the page embeds: compact sentences, label colours and (with ``gold``) the evaluation."""
    from xlner.metrics import evaluate_spans

    gold_spans = _gold_spans(records, gold) if gold is not None else None
    sentences: list[dict[str, Any]] = []
    labels: set[str] = set()
    predicted: list[list[Span]] = []
    for k, record in enumerate(records):
        spans = record.get("spans") or []
        pred = [Span(int(s["start"]), int(s["end"]), str(s["label"])) for s in spans]
        predicted.append(pred)
        gold_set = set(gold_spans[k]) if gold_spans is not None else None
        item: dict[str, Any] = {
            "id": record.get("id"),
            "s": record["src_tokens"],
            "t": record["tgt_tokens"],
            "a": record.get("alignment") or [],
            "e": record.get("src_spans") or [],
            "c": record.get("confidence"),
            "st": record.get("status"),
            "k": record.get("kept", True),
            "p": [
                {
                    "b": s["start"],
                    "x": s["end"],
                    "l": s["label"],
                    "src": s.get("source"),
                    "sb": s.get("src_start"),
                    "sx": s.get("src_end"),
                    "sc": s.get("score"),
                    "pa": s.get("parts") or {},
                    "ln": s.get("links") or [],
                    **({"ok": span in gold_set} if gold_set is not None else {}),
                }
                for s, span in zip(spans, pred)
            ],
            "u": [
                {
                    "src": u.get("source"),
                    "sb": u.get("src_start"),
                    "sx": u.get("src_end"),
                    "l": u.get("source_label"),
                    "r": u.get("reason"),
                    "cand": u.get("candidate"),
                }
                for u in record.get("unprojected") or []
            ],
        }
        if gold_spans is not None:
            item["g"] = [[s.start, s.end, s.label] for s in gold_spans[k]]
            item["fn"] = [[s.start, s.end, s.label] for s in sorted(set(gold_spans[k]) - set(pred))]
        labels.update(s.label for s in pred)
        labels.update(str(e[2]) for e in item["e"])
        labels.update(g[2] for g in item.get("g", []))
        sentences.append(item)
    data: dict[str, Any] = {
        "sentences": sentences,
        "colors": label_colors(sorted(labels)),
        "gold": gold_spans is not None,
        "page_size": PAGE_SIZE,
    }
    if gold_spans is not None:
        data["metrics"] = evaluate_spans(gold_spans, predicted).to_dict()
    return data


def _metrics_table(metrics: Mapping[str, Any] | None) -> str:
    if not metrics:
        return '<p id="metrics" class="note">No gold given: run <code>xlner report ... --gold FILE</code> for precision, recall and F1.</p>'
    rows = [(label, scores) for label, scores in metrics["per_type"].items()] + [("micro", metrics["micro"])]
    body = "".join(
        f'<tr class="{"micro" if label == "micro" else ""}"><th>{html.escape(label)}</th><td>{s["precision"]:.3f}</td>'
        f"<td>{s['recall']:.3f}</td><td>{s['f1']:.3f}</td><td>{s['support']}</td><td>{s['predicted']}</td><td>{s['correct']}</td></tr>"
        for label, s in rows
    )
    return (
        '<table id="metrics"><thead><tr><th>label</th><th>P</th><th>R</th><th>F1</th><th>gold</th><th>predicted</th>'
        f"<th>correct</th></tr></thead><tbody>{body}</tbody></table>"
    )


def build_report(
    records: Sequence[Mapping[str, Any]], gold: Sequence[Sentence] | None = None, title: str = "xlner projection report"
) -> str:
    """The HTML page of ``records`` (see :mod:`xlner.project.explain`); ``gold``: target sentences with gold spans."""
    data = report_data(records, gold)
    payload = (
        json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")
    )
    return (
        _PAGE.replace("__TITLE__", html.escape(title))
        .replace("__METRICS__", _metrics_table(data.get("metrics")))
        .replace("__DATA__", payload)
    )


_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>__TITLE__</title>
<style>
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:1.2em;color:#222;font-size:15px}
h1{font-size:1.3em;margin:0 0 .5em}
#metrics{border-collapse:collapse;margin:.5em 0 1em}#metrics td,#metrics th{border:1px solid #ddd;padding:2px 8px;text-align:right}
#metrics th:first-child{text-align:left}#metrics tr.micro{font-weight:bold;background:#f6f6f6}
.controls{position:sticky;top:0;background:#fff;padding:.5em 0;border-bottom:1px solid #ddd;z-index:2}
.controls label{margin-right:1em}.counts{margin-left:1em;color:#444}
.pair{border-bottom:1px solid #eee;padding:.6em 0}
.meta{font-size:.8em;color:#666;margin-bottom:.2em}.meta .bad{color:#b00}
.scroll{overflow-x:auto}.inner{display:inline-block;min-width:100%;position:relative}
.row{white-space:nowrap;line-height:2.4}
.side{display:inline-block;width:2.2em;font-size:.7em;color:#999;text-transform:uppercase}
.tok{padding:0 .12em}
mark.ent{padding:.25em .4em;margin:0 .15em;line-height:1;border-radius:.35em;box-decoration-break:clone;-webkit-box-decoration-break:clone}
mark.ent .lbl{font-size:.62em;font-weight:bold;line-height:1;border-radius:.35em;vertical-align:middle;margin-left:.4em;text-transform:uppercase}
mark.fp{outline:2px dashed #c00;outline-offset:1px}mark.tp{box-shadow:inset 0 -3px 0 #2a2}
mark.unproj{opacity:.55;outline:1px dotted #666}
mark.fn{background:#fff!important;outline:2px solid #c00}
svg.links{display:block;height:34px}svg.links line{stroke:#bbb;stroke-width:1}svg.links line.used{stroke-width:2.5}
.extra{font-size:.85em;margin-top:.2em}.extra .why{color:#666}
.note{color:#666}
</style></head><body>
<h1>__TITLE__</h1>
__METRICS__
<div class="controls">
<label>label <select id="filter-label"><option value="">all</option></select></label>
<label>min confidence <input id="filter-confidence" type="number" min="0" max="1" step="0.05" value="0" style="width:5em"></label>
<label><input id="filter-errors" type="checkbox"> errors only</label>
<button id="prev-page">&larr;</button> page <span id="page-number">1</span> / <span id="page-count">1</span> <button id="next-page">&rarr;</button>
<span class="counts">sentences <span id="count-sentences">0</span> / <span id="total-sentences">0</span>,
spans <span id="count-spans">0</span> / <span id="total-spans">0</span></span>
</div>
<div id="sentences"></div>
<script type="application/json" id="xlner-data">__DATA__</script>
<script>
(function(){
"use strict";
var D=JSON.parse(document.getElementById("xlner-data").textContent);
var S=D.sentences,C=D.colors,P=D.page_size,gold=D.gold;
var state={label:"",minConf:0,errors:false,page:0},shown=[];
function $(id){return document.getElementById(id);}
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return {"&":"&amp;","<":"&lt;",">":"&gt;","\\"":"&quot;","'":"&#39;"}[c];});}
function f3(x){return x===null||x===undefined?"-":Number(x).toFixed(3);}
function parts(p){var k=Object.keys(p||{});return k.length?" ("+k.map(function(n){return n+" "+f3(p[n]);}).join(", ")+")":"";}
function hasLabel(s,l){
  if(s.p.some(function(x){return x.l===l;}))return true;
  if(s.e.some(function(x){return x[2]===l;}))return true;
  return !!(s.g&&s.g.some(function(x){return x[2]===l;}));
}
function isError(s,l){
  var ok=function(lab){return !l||lab===l;};
  if(gold)return s.p.some(function(x){return !x.ok&&ok(x.l);})||s.fn.some(function(x){return ok(x[2]);});
  return s.u.some(function(x){return ok(x.l);});
}
function filter(){
  shown=[];var spans=0;
  for(var k=0;k<S.length;k++){
    var s=S[k];
    if(state.label&&!hasLabel(s,state.label))continue;
    if((s.c===null?1:s.c)<state.minConf)continue;
    if(state.errors&&!isError(s,state.label))continue;
    shown.push(k);
    spans+=state.label?s.p.filter(function(x){return x.l===state.label;}).length:s.p.length;
  }
  $("count-sentences").textContent=shown.length;$("count-spans").textContent=spans;
  var pages=Math.max(1,Math.ceil(shown.length/P));
  if(state.page>=pages)state.page=pages-1;
  $("page-count").textContent=pages;
  render();
}
function row(tokens,spans,side){
  // spans: [{b,x,l,cls,title}] (overlaps: the first wins)
  spans=spans.slice().sort(function(a,b){return a.b-b.b||b.x-a.x;});
  var out=['<div class="row '+side+'"><span class="side">'+side+'</span>'],j=0,k=0;
  while(j<tokens.length){
    while(k<spans.length&&spans[k].b<j)k++;
    if(k<spans.length&&spans[k].b===j){
      var sp=spans[k];out.push('<mark class="ent '+(sp.cls||"")+'" style="background:'+(C[sp.l]||"#ddd")+'" title="'+esc(sp.title)+'">');
      for(;j<sp.x&&j<tokens.length;j++)out.push('<span class="tok" data-'+side+'="'+j+'">'+esc(tokens[j])+'</span>');
      out.push('<span class="lbl">'+esc(sp.l)+'</span></mark>');k++;
    }else{out.push('<span class="tok" data-'+side+'="'+j+'">'+esc(tokens[j])+'</span>');j++;}
  }
  out.push("</div>");return out.join("");
}
function pairHtml(k){
  var s=S[k],src=[],tgt=[],projected={};
  s.p.forEach(function(x){
    if(x.src!==null&&x.src!==undefined)projected[x.src]=x;
    var t=x.l+" \\u2190 "+(x.sb===null||x.sb===undefined?"?":"\\""+s.s.slice(x.sb,x.sx).join(" ")+"\\"")+"  score "+f3(x.sc)+parts(x.pa)+
      "  links "+(x.ln.map(function(l){return l[0]+"-"+l[1];}).join(" ")||"none")+"  status "+s.st+"  confidence "+f3(s.c);
    var cls="";if(gold){cls=x.ok?"tp":"fp";t+=x.ok?"  correct":"  false positive";}
    tgt.push({b:x.b,x:x.x,l:x.l,cls:cls,title:t});
  });
  var why={};s.u.forEach(function(u){why[u.src]=u;});
  s.e.forEach(function(e,i){
    var p=projected[i],u=why[i],t;
    if(p)t=e[2]+" \\u2192 \\""+s.t.slice(p.b,p.x).join(" ")+"\\"  score "+f3(p.sc)+parts(p.pa);
    else if(u)t=e[2]+" not projected: "+u.r+(u.cand?"; best candidate \\""+u.cand.text+"\\" "+f3(u.cand.score)+parts(u.cand.parts):"");
    else t=e[2];
    src.push({b:e[0],x:e[1],l:e[2],cls:p?"":"unproj",title:t});
  });
  var head='<div class="meta">#'+(k+1)+(s.id!==null&&s.id!==undefined?" "+esc(s.id):"")+" \\u00b7 confidence "+f3(s.c)+" \\u00b7 "+esc(s.st)+(s.k===false?' \\u00b7 <span class="bad">dropped</span>':"")+"</div>";
  var extra="";
  if(gold&&s.fn.length)extra+='<div class="extra">missed gold: '+s.fn.map(function(g){return '<mark class="ent fn" title="false negative: gold '+esc(g[2])+' not projected">'+esc(s.t.slice(g[0],g[1]).join(" "))+'<span class="lbl">'+esc(g[2])+"</span></mark>";}).join(" ")+"</div>";
  if(s.u.length)extra+='<div class="extra why">not projected: '+s.u.map(function(u){return esc(s.s.slice(u.sb,u.sx).join(" "))+" ("+esc(u.l)+"): "+esc(u.r)+(u.cand?" \\u2014 best \\""+esc(u.cand.text)+"\\" "+f3(u.cand.score):"");}).join("; ")+"</div>";
  return '<div class="pair" data-index="'+k+'">'+head+'<div class="scroll"><div class="inner">'+row(s.s,src,"src")+
    '<svg class="links"></svg>'+row(s.t,tgt,"tgt")+"</div></div>"+extra+"</div>";
}
function draw(div){
  var s=S[+div.getAttribute("data-index")],svg=div.querySelector("svg.links"),inner=div.querySelector(".inner");
  var box=svg.getBoundingClientRect(),w=inner.scrollWidth,used={};
  svg.setAttribute("width",w);
  s.p.forEach(function(x){x.ln.forEach(function(l){used[l[0]+"-"+l[1]]=x.l;});});
  var si={},ti={};
  div.querySelectorAll("[data-src]").forEach(function(e){si[e.getAttribute("data-src")]=e;});
  div.querySelectorAll("[data-tgt]").forEach(function(e){ti[e.getAttribute("data-tgt")]=e;});
  var out=[];
  s.a.forEach(function(l){
    var a=si[l[0]],b=ti[l[1]];if(!a||!b)return;
    var ra=a.getBoundingClientRect(),rb=b.getBoundingClientRect(),key=l[0]+"-"+l[1],lab=used[key];
    var x1=ra.left+ra.width/2-box.left,x2=rb.left+rb.width/2-box.left;
    out.push('<line x1="'+x1.toFixed(1)+'" y1="0" x2="'+x2.toFixed(1)+'" y2="34"'+(lab?' class="used" style="stroke:'+(C[lab]||"#888")+'"':"")+
      '><title>'+esc(s.s[l[0]])+" \\u2014 "+esc(s.t[l[1]])+" ("+key+")</title></line>");
  });
  svg.innerHTML=out.join("");
}
function render(){
  var start=state.page*P,items=shown.slice(start,start+P);
  $("page-number").textContent=state.page+1;
  var box=$("sentences");box.innerHTML=items.map(pairHtml).join("")||'<p class="note">No sentence matches the filters.</p>';
  box.querySelectorAll(".pair").forEach(draw);
}
var labels={};S.forEach(function(s){s.p.forEach(function(x){labels[x.l]=1;});s.e.forEach(function(x){labels[x[2]]=1;});(s.g||[]).forEach(function(x){labels[x[2]]=1;});});
Object.keys(labels).sort().forEach(function(l){var o=document.createElement("option");o.value=l;o.textContent=l;$("filter-label").appendChild(o);});
$("total-sentences").textContent=S.length;
$("total-spans").textContent=S.reduce(function(n,s){return n+s.p.length;},0);
$("filter-label").addEventListener("change",function(e){state.label=e.target.value;state.page=0;filter();});
$("filter-confidence").addEventListener("input",function(e){var v=parseFloat(e.target.value);state.minConf=isNaN(v)?0:v;state.page=0;filter();});
$("filter-errors").addEventListener("change",function(e){state.errors=e.target.checked;state.page=0;filter();});
$("prev-page").addEventListener("click",function(){if(state.page>0){state.page--;render();}});
$("next-page").addEventListener("click",function(){if((state.page+1)*P<shown.length){state.page++;render();}});
window.addEventListener("resize",function(){$("sentences").querySelectorAll(".pair").forEach(draw);});
filter();
})();
</script></body></html>
"""
