// The report as one self-contained HTML page: inline CSS, charts as inline SVG (a title, and each
// bar's value in its own <title> and in the table under it), no script and nothing fetched, so it
// can be mailed, archived and opened offline years later.
import type { ReportFigures } from './report-aggregate.js'
import type { ReportSection } from './report-sections.js'
import type { ReportLang, ReportWords } from './report-text.js'
import type { VerifyReport } from './verify-report.js'

const esc = (v: string | number) => String(v).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const COLOURS = ['#1f5fa8', '#c0392b', '#e67e22', '#7f8c8d']

const CSS = `body{font-family:system-ui,sans-serif;margin:2rem;color:#1a1a1a;max-width:70rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
.chain{padding:.8rem 1rem;border-radius:4px;font-weight:600}
.ok{background:#e3f4e8;border:2px solid #2e7d32}.broken{background:#fde7e7;border:3px solid #b71c1c;color:#7a0000}
.gaps{background:#fff4e0;border:2px solid #e67e22;margin-top:.5rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #bbb;padding:.2rem .5rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}svg{display:block;margin:.5rem 0}
.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem}
@media print{.broken{border-width:4px}}`

export function renderReportHtml(
  f: ReportFigures,
  verify: VerifyReport,
  sections: ReportSection[],
  w: ReportWords,
  lang: ReportLang,
  generatedAt: string,
): string {
  let body = `<h1>${esc(w.title)}</h1>\n<p>${esc(w.period(f.window.from, f.window.to, f.hours.timeZone))}<br>${esc(w.generated(generatedAt))}</p>\n`
  body += chainBanner(verify, w)
  body += `<p>${esc(w.events(f.eventsRead, f.eventsInWindow))}</p>\n`
  for (const s of sections) body += sectionHtml(s, w)
  return `<!DOCTYPE html>\n<html lang="${lang}">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n<title>${esc(w.title)} ${esc(f.window.from)} – ${esc(f.window.to)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n${body}</body>\n</html>\n`
}

function chainBanner(v: VerifyReport, w: ReportWords): string {
  let out: string
  if (v.ok) {
    out = `<p class="chain ok" id="chaine" data-chain="verified">${esc(w.chainOk(v.lines, v.files.length))}</p>\n`
  } else {
    const first = v.findings[0]!
    out = `<div class="chain broken" id="chaine" data-chain="broken" role="alert"><p>${esc(w.chainBroken(`${first.file}:${first.line}`, first.kind))}</p>\n<details><summary>${esc(w.findings)} (${v.findings.length})</summary><ul>`
    for (const x of v.findings.slice(0, 50)) out += `<li>${esc(`${x.file}:${x.line}: ${x.kind}: ${x.message}`)}</li>`
    out += '</ul></details></div>\n'
  }
  if (v.gaps.length > 0) {
    out += `<div class="chain gaps" data-gaps="${v.lost}"><p>${esc(w.gaps(v.lost, v.gaps.length))}</p><ul>`
    for (const g of v.gaps.slice(0, 50))
      out += `<li>${esc(`${g.file}:${g.line}: ${g.lost} (${g.from} – ${g.to}, ${g.reason})`)}</li>`
    out += '</ul></div>\n'
  }
  if (v.ok && v.expectedHeadAt === undefined) out += `<p><small>${esc(w.noHead)}</small></p>\n`
  return out
}

function sectionHtml(s: ReportSection, w: ReportWords): string {
  let out = `<section id="${esc(s.id)}">\n<h2>${esc(s.title)}</h2>\n`
  if (s.note !== undefined) out += `<p>${esc(s.note)}</p>\n`
  if (s.rows.length === 0) return `${out}<p>${esc(w.none)}</p>\n</section>\n`
  if (s.chart !== undefined) out += chartSvg(s, s.chart.series, w)
  out += `<table>\n<thead><tr>${s.columns.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead>\n<tbody>\n`
  for (const row of s.rows)
    out += `<tr>${row.map((v) => (typeof v === 'number' ? `<td class="n">${v}</td>` : `<td>${esc(v)}</td>`)).join('')}</tr>\n`
  out += '</tbody>\n</table>\n'
  if (s.overflow !== undefined) out += `<p>${esc(w.overflow(s.overflow))}</p>\n`
  return `${out}</section>\n`
}

/** Grouped bars: one group per row, one bar per series; each bar's value in its <title>. */
function chartSvg(s: ReportSection, series: number[], w: ReportWords): string {
  const bar = 10
  const groupGap = 8
  const groupWidth = series.length * bar + groupGap
  const left = 40
  const plotHeight = 160
  const labelSpace = 70
  const width = Math.max(300, left + s.rows.length * groupWidth + 10)
  const height = plotHeight + labelSpace + 10
  let max = 0
  for (const row of s.rows) for (const i of series) max = Math.max(max, Number(row[i]))
  const scale = max === 0 ? 0 : plotHeight / max
  const titleId = `titre-${s.id}`
  let out = `<svg class="chart" data-chart="${esc(s.id)}" role="img" aria-labelledby="${titleId}" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n<title id="${titleId}">${esc(w.chart(s.title))}</title>\n`
  out += `<line x1="${left}" y1="${plotHeight + 5}" x2="${width}" y2="${plotHeight + 5}" stroke="#555"/>\n`
  out += `<text x="${left - 4}" y="12" text-anchor="end" font-size="10">${max}</text><text x="${left - 4}" y="${plotHeight + 5}" text-anchor="end" font-size="10">0</text>\n`
  s.rows.forEach((row, g) => {
    const x0 = left + 4 + g * groupWidth
    series.forEach((col, k) => {
      const value = Number(row[col])
      const h = Math.round(value * scale * 10) / 10
      out += `<rect class="bar" data-series="${k}" x="${x0 + k * bar}" y="${plotHeight + 5 - h}" width="${bar - 1}" height="${h}" fill="${COLOURS[k % COLOURS.length]}"><title>${esc(`${row[0]} — ${s.columns[col]} : ${value}`)}</title></rect>\n`
    })
    const cx = x0 + (series.length * bar) / 2
    out += `<text class="label" x="${cx}" y="${plotHeight + 18}" font-size="10" text-anchor="end" transform="rotate(-45 ${cx} ${plotHeight + 18})">${esc(String(row[0]).slice(0, 24))}</text>\n`
  })
  out += '</svg>\n<p class="legend">'
  series.forEach((col, k) => {
    out += `<span><i style="background:${COLOURS[k % COLOURS.length]}"></i>${esc(s.columns[col]!)}</span>`
  })
  return `${out}</p>\n`
}
