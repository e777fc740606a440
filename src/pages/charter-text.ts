// The IT charter's text as HTML: plain text with a little Markdown ("# " headings, "- " lists,
// blank lines between paragraphs), every character escaped, so a charter file can never put markup,
// a script or a link of its own into the page.
import { escapeHtml } from './html.js'

export function charterTextHtml(text: string): string {
  const blocks = text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((b) => b.replace(/^\n+|\s+$/g, ''))
    .filter((b) => b.trim() !== '')
  return blocks.map(blockHtml).join('\n')
}

function blockHtml(block: string): string {
  const lines = block.split('\n')
  const heading = /^(#{1,3})\s+(.*)$/.exec(lines[0] ?? '')
  if (heading !== null && lines.length === 1) {
    // the page's own title is the h1: the charter's headings start at h2
    const level = heading[1]!.length + 1
    return `<h${level}>${escapeHtml(heading[2]!)}</h${level}>`
  }
  if (lines.every((l) => /^\s*[-*]\s+/.test(l)))
    return `<ul>${lines.map((l) => `<li>${escapeHtml(l.replace(/^\s*[-*]\s+/, ''))}</li>`).join('')}</ul>`
  return `<p>${lines.map((l) => escapeHtml(l.trim())).join('<br>')}</p>`
}
