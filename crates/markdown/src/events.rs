//! The event pipeline between pulldown-cmark's parser and its HTML writer: heading ids, raw HTML
//! turned into text, URLs checked and resolved, footnotes linked on the page.

use std::collections::BTreeMap;
use std::ops::Range;

use pulldown_cmark::{Alignment, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd};
use pulldown_cmark_escape::{escape_href, escape_html};

use crate::links::{Here, LinkMap};
use crate::slug::Slugger;

/// A heading of a document, with the id it gets in the HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 for `#`, 6 for `######`.
    pub level: u8,
    /// The GitHub-style slug, unique in the document.
    pub id: String,
    /// The heading's text, without markup.
    pub text: String,
}

/// The markdown dialect of the project: CommonMark plus GitHub's tables, footnotes,
/// strikethrough and task lists.
pub fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
}

/// A parsed document: its events with source ranges, heading ids already set.
pub(crate) struct Parsed<'a> {
    events: Vec<(Event<'a>, Range<usize>)>,
    /// Headings with the index of their `Start` event.
    headings: Vec<(usize, Heading)>,
}

impl<'a> Parsed<'a> {
    pub(crate) fn new(markdown: &'a str) -> Parsed<'a> {
        let mut events: Vec<(Event<'a>, Range<usize>)> = Parser::new_ext(markdown, options())
            .into_offset_iter()
            .collect();
        let mut slugger = Slugger::default();
        let mut headings = Vec::new();
        for start in 0..events.len() {
            let Event::Start(Tag::Heading { level, .. }) = &events[start].0 else {
                continue;
            };
            let level = *level as u8;
            let text = heading_text(&events[start + 1..]);
            let id = slugger.slug(&text);
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[start].0 {
                *slot = Some(CowStr::from(id.clone()));
            }
            headings.push((start, Heading { level, id, text }));
        }
        Parsed { events, headings }
    }

    pub(crate) fn headings(&self) -> impl Iterator<Item = &Heading> {
        self.headings.iter().map(|(_, h)| h)
    }

    /// The event range of the section whose heading has this id: the heading and everything up
    /// to the next heading of the same or a higher level.
    pub(crate) fn section(&self, id: &str) -> Option<Range<usize>> {
        let position = self.headings.iter().position(|(_, h)| h.id == id)?;
        let (start, heading) = &self.headings[position];
        let end = self.headings[position + 1..]
            .iter()
            .find(|(_, h)| h.level <= heading.level)
            .map_or(self.events.len(), |(i, _)| *i);
        Some(*start..end)
    }

    /// The source text behind an event range.
    pub(crate) fn source_range(&self, events: Range<usize>, len: usize) -> Range<usize> {
        let start = self.events.get(events.start).map_or(len, |(_, r)| r.start);
        let end = self.events.get(events.end).map_or(len, |(_, r)| r.start);
        start..end
    }

    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// HTML of the events in `range`, made safe and with URLs resolved for `links`.
    pub(crate) fn to_html(
        &self,
        range: Range<usize>,
        document: &str,
        route: &str,
        links: &LinkMap,
    ) -> String {
        let mut ids: Vec<String> = self
            .headings
            .iter()
            .filter(|(i, _)| range.contains(i))
            .map(|(_, h)| h.id.clone())
            .collect();
        let events = &self.events[range];
        ids.extend(events.iter().filter_map(|(e, _)| match e {
            Event::Start(Tag::FootnoteDefinition(name)) => Some(footnote_id(name)),
            _ => None,
        }));
        let here = Here { route, ids: &ids };
        let safe = SafeEvents {
            document,
            links,
            here,
            kept: Vec::new(),
            footnotes: BTreeMap::new(),
            table: None,
        }
        .convert(events.iter().map(|(e, _)| e.clone()));
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, safe.into_iter());
        html
    }
}

/// The plain text of a heading whose `Start` event precedes `rest`.
fn heading_text(rest: &[(Event<'_>, Range<usize>)]) -> String {
    let mut text = String::new();
    for (event, _) in rest {
        match event {
            Event::End(TagEnd::Heading(_)) => break,
            Event::Text(t) | Event::Code(t) => text.push_str(t),
            _ => {}
        }
    }
    text
}

fn footnote_id(name: &str) -> String {
    format!("fn-{name}")
}

/// Rewrites parser events so that `push_html` can only write markup this crate chose.
struct SafeEvents<'m> {
    document: &'m str,
    links: &'m LinkMap,
    here: Here<'m>,
    /// For each open link or image: whether its tags are kept (false: only its text remains).
    kept: Vec<Written>,
    /// Footnote numbers in order of first appearance, as GitHub numbers them.
    footnotes: BTreeMap<String, usize>,
    /// The table being written, if any.
    table: Option<Table>,
}

/// Where the conversion is in a table: its cells are written here, aligned by a class, because
/// `push_html` aligns them with a `style` attribute, which the site's Content-Security-Policy
/// (`style-src 'self'`) blocks.
struct Table {
    alignments: Vec<Alignment>,
    in_head: bool,
    cell: usize,
}

/// What became of an open link or image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    /// Its URL was refused: only its text remains.
    Dropped,
    /// Written as it is.
    AsIs,
    /// An image written inside a link to itself ([`LinkMap::with_image_links`]).
    Linked,
}

impl SafeEvents<'_> {
    fn convert<'a>(mut self, events: impl Iterator<Item = Event<'a>>) -> Vec<Event<'a>> {
        let mut out = Vec::new();
        for event in events {
            self.convert_one(event, &mut out);
        }
        out
    }

    /// Whether the events being converted are inside a link that is written out.
    fn in_link(&self) -> bool {
        self.kept.iter().any(|k| *k != Written::Dropped)
    }

    fn convert_one<'a>(&mut self, event: Event<'a>, out: &mut Vec<Event<'a>>) {
        let converted = match event {
            // Raw HTML is shown as the text it is, never interpreted.
            Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
            // An HTML block has no wrapper of its own: give its escaped text a paragraph.
            Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
            Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                // pulldown-cmark only recognises well-formed addresses as email autolinks, and
                // writes them as `mailto:`.
                let url = if link_type == LinkType::Email {
                    Some(dest_url.to_string())
                } else {
                    self.links.resolve(self.document, &dest_url, &self.here)
                };
                let Some(url) = url else {
                    self.kept.push(Written::Dropped);
                    return;
                };
                self.kept.push(Written::AsIs);
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: CowStr::from(url),
                    title,
                    id,
                })
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let Some(url) = self.links.resolve(self.document, &dest_url, &self.here) else {
                    self.kept.push(Written::Dropped);
                    return;
                };
                let url = CowStr::from(url);
                if self.links.links_images() && !self.in_link() {
                    self.kept.push(Written::Linked);
                    out.push(Event::Start(Tag::Link {
                        link_type: LinkType::Inline,
                        dest_url: url.clone(),
                        title: CowStr::from(""),
                        id: CowStr::from(""),
                    }));
                } else {
                    self.kept.push(Written::AsIs);
                }
                Event::Start(Tag::Image {
                    link_type,
                    dest_url: url,
                    title,
                    id,
                })
            }
            Event::End(end @ (TagEnd::Link | TagEnd::Image)) => {
                match self.kept.pop().unwrap_or(Written::AsIs) {
                    Written::Dropped => return,
                    Written::AsIs => Event::End(end),
                    Written::Linked => {
                        out.push(Event::End(end));
                        Event::End(TagEnd::Link)
                    }
                }
            }
            // push_html links footnotes with a bare `#name`, which a `<base href>` sends to the
            // home page: write them with this page's route instead.
            Event::FootnoteReference(name) => {
                let number = self.footnote_number(&name);
                let mut html = String::from("<sup class=\"footnote-reference\"><a href=\"");
                push_href(&mut html, self.here.route);
                html.push('#');
                push_href(&mut html, &footnote_id(&name));
                html.push_str(&format!("\">{number}</a></sup>"));
                Event::InlineHtml(CowStr::from(html))
            }
            Event::Start(Tag::FootnoteDefinition(name)) => {
                let number = self.footnote_number(&name);
                let mut html = String::from("<div class=\"footnote-definition\" id=\"");
                push_text(&mut html, &footnote_id(&name));
                html.push_str(&format!(
                    "\"><sup class=\"footnote-definition-label\">{number}</sup>"
                ));
                Event::Html(CowStr::from(html))
            }
            Event::Start(Tag::Table(alignments)) => {
                self.table = Some(Table {
                    alignments: alignments.clone(),
                    in_head: false,
                    cell: 0,
                });
                Event::Start(Tag::Table(alignments))
            }
            Event::End(TagEnd::Table) => {
                self.table = None;
                Event::End(TagEnd::Table)
            }
            Event::Start(tag @ (Tag::TableHead | Tag::TableRow)) => {
                if let Some(table) = &mut self.table {
                    table.in_head |= tag == Tag::TableHead;
                    table.cell = 0;
                }
                Event::Start(tag)
            }
            Event::End(TagEnd::TableHead) => {
                if let Some(table) = &mut self.table {
                    table.in_head = false;
                }
                Event::End(TagEnd::TableHead)
            }
            Event::Start(Tag::TableCell) => {
                let (name, alignment) = self.table.as_ref().map_or(("td", None), |t| {
                    let name = if t.in_head { "th" } else { "td" };
                    (name, t.alignments.get(t.cell))
                });
                let class = match alignment {
                    Some(Alignment::Left) => " class=\"align-left\"",
                    Some(Alignment::Center) => " class=\"align-center\"",
                    Some(Alignment::Right) => " class=\"align-right\"",
                    Some(Alignment::None) | None => "",
                };
                Event::InlineHtml(CowStr::from(format!("<{name}{class}>")))
            }
            Event::End(TagEnd::TableCell) => {
                let name = match &mut self.table {
                    Some(table) => {
                        table.cell += 1;
                        if table.in_head { "th" } else { "td" }
                    }
                    None => "td",
                };
                Event::InlineHtml(CowStr::from(format!("</{name}>")))
            }
            other => other,
        };
        out.push(converted);
    }

    fn footnote_number(&mut self, name: &str) -> usize {
        let next = self.footnotes.len() + 1;
        *self.footnotes.entry(name.to_owned()).or_insert(next)
    }
}

fn push_href(out: &mut String, url: &str) {
    // Writing into a String cannot fail.
    let _ = escape_href(&mut *out, url);
}

fn push_text(out: &mut String, text: &str) {
    let _ = escape_html(&mut *out, text);
}
