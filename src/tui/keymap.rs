//! Keys map to named actions (`assets/keymap.toml`, overridable under `[keys]` in the config);
//! the help screen is generated from the same table.

use std::collections::{BTreeMap, HashMap};

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The defaults, embedded.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

macro_rules! actions {
    ($($variant:ident = $name:literal : $help:literal,)*) => {
        /// Everything a key can do.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant,)* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            pub fn help(self) -> &'static str {
                match self { $(Action::$variant => $help,)* }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Quit = "quit": "quit",
    ViewContacts = "view_contacts": "contacts",
    ViewCalendar = "view_calendar": "calendar",
    ViewTodos = "view_todos": "to-dos",
    ViewPhotos = "view_photos": "photos",
    NextView = "next_view": "next view",
    PrevView = "prev_view": "previous view",
    Down = "down": "move down",
    Up = "up": "move up",
    Top = "top": "first item",
    Bottom = "bottom": "last item",
    PageDown = "page_down": "half a page down",
    PageUp = "page_up": "half a page up",
    Search = "search": "filter as you type (accents ignored)",
    Help = "help": "this help",
    ToggleDone = "toggle_done": "to-do done / not done",
    SyncNow = "sync_now": "sync now",
    Today = "today": "calendar: today",
    PrevDay = "prev_day": "calendar: previous day",
    NextDay = "next_day": "calendar: next day",
    PrevPeriod = "prev_period": "calendar: previous month / week",
    NextPeriod = "next_period": "calendar: next month / week",
    Month = "month": "calendar: month grid",
    Week = "week": "calendar: week",
    Agenda = "agenda": "calendar: agenda list",
    New = "new": "new item",
    Edit = "edit": "edit the item in a form",
    EditExternal = "edit_external": "edit the item's text in $EDITOR",
    Delete = "delete": "move to the trash",
    Undo = "undo": "undo the last change",
    Trash = "trash": "show the trash (Enter restores)",
    Conflicts = "conflicts": "conflicts and flagged items (from every view)",
    KeepMine = "keep_mine": "conflicts: keep my version",
    TakeServer = "take_server": "conflicts: take the server's version",
    GlobalSearch = "global_search": "search everything (contacts, events, to-dos)",
    History = "history": "revisions of the item (Enter reverts)",
    Filter = "filter": "to-dos: open / all / today / overdue",
    Open = "open": "open / confirm",
    OpenExternal = "open_external": "photos: open in the system viewer",
    LinkPhoto = "link_photo": "photos: link to a contact, event or to-do",
    UnlinkPhoto = "unlink_photo": "photos: unlink from one of its links",
    SetContactPhoto = "set_contact_photo": "contacts: the card's photo, from a linked photo",
    Back = "back": "back / cancel",
}

/// A key as the keymap names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl Key {
    pub fn from_event(e: &KeyEvent) -> Key {
        let ctrl = e.modifiers.contains(KeyModifiers::CONTROL);
        let code = match e.code {
            // Shift is in the character already ('G'); BackTab is its own code.
            KeyCode::Char(c) if ctrl => KeyCode::Char(c.to_ascii_lowercase()),
            other => other,
        };
        Key { code, ctrl }
    }

    fn parse(s: &str) -> Option<Key> {
        let (ctrl, rest) = match s.strip_prefix("Ctrl-") {
            Some(r) => (true, r),
            None => (false, s),
        };
        let code = match rest {
            "Space" => KeyCode::Char(' '),
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Tab" => KeyCode::Tab,
            "BackTab" => KeyCode::BackTab,
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            "Backspace" => KeyCode::Backspace,
            one if one.chars().count() == 1 => {
                let c = one.chars().next()?;
                KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
            }
            _ => return None,
        };
        Some(Key { code, ctrl })
    }
}

/// The bindings: single keys and two-key sequences.
#[derive(Debug, Clone)]
pub struct Keymap {
    single: HashMap<Key, Action>,
    double: HashMap<(Key, Key), Action>,
    /// Action -> the key names as written, for help.
    names: BTreeMap<Action, Vec<String>>,
}

impl Keymap {
    /// The defaults with `overrides` (action name -> keys) on top. Errors name the action or key.
    pub fn new(overrides: &BTreeMap<String, Vec<String>>) -> Result<Keymap, String> {
        let defaults: BTreeMap<String, Vec<String>> =
            toml::from_str(DEFAULT_KEYMAP).map_err(|e| format!("assets/keymap.toml: {e}"))?;
        let mut table = defaults;
        for (action, keys) in overrides {
            if Action::from_name(action).is_none() {
                return Err(format!(
                    "keys.{action}: no such action (see assets/keymap.toml)"
                ));
            }
            table.insert(action.clone(), keys.clone());
        }
        let mut map = Keymap {
            single: HashMap::new(),
            double: HashMap::new(),
            names: BTreeMap::new(),
        };
        for (name, keys) in &table {
            let action = Action::from_name(name)
                .ok_or_else(|| format!("keymap: no such action {name:?}"))?;
            for k in keys {
                if let Some(key) = Key::parse(k) {
                    // An override takes a key away from whatever had it.
                    map.single.insert(key, action);
                } else if k.chars().count() == 2 {
                    let mut cs = k.chars();
                    let (a, b) = (cs.next(), cs.next());
                    let (Some(a), Some(b)) = (a, b) else { continue };
                    let key = |c: char| Key {
                        code: KeyCode::Char(c),
                        ctrl: false,
                    };
                    map.double.insert((key(a), key(b)), action);
                } else {
                    return Err(format!("keys.{name}: cannot read the key {k:?}"));
                }
                map.names.entry(action).or_default().push(k.clone());
            }
        }
        Ok(map)
    }

    /// Resolves a key press, given the previous key when it may start a sequence. Returns the
    /// action, or `Pending` when the key starts a sequence.
    pub fn resolve(&self, pending: Option<Key>, key: Key) -> Resolved {
        if let Some(p) = pending {
            if let Some(a) = self.double.get(&(p, key)) {
                return Resolved::Action(*a);
            }
        }
        if self.double.keys().any(|(a, _)| *a == key) && pending != Some(key) {
            // 'g' alone does nothing yet; a second key completes or cancels it.
            if let Some(a) = self.single.get(&key) {
                return Resolved::Action(*a);
            }
            return Resolved::Pending(key);
        }
        match self.single.get(&key) {
            Some(a) => Resolved::Action(*a),
            None => Resolved::None,
        }
    }

    /// The keys bound to `action`, as written ("j, Down").
    pub fn keys_of(&self, action: Action) -> String {
        self.names
            .get(&action)
            .map(|v| v.join(", "))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    Action(Action),
    Pending(Key),
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: char) -> Key {
        Key {
            code: KeyCode::Char(c),
            ctrl: false,
        }
    }

    #[test]
    fn defaults_and_overrides() {
        let map = Keymap::new(&BTreeMap::new()).expect("defaults");
        assert_eq!(map.resolve(None, key('j')), Resolved::Action(Action::Down));
        assert_eq!(map.resolve(None, key('g')), Resolved::Pending(key('g')));
        assert_eq!(
            map.resolve(Some(key('g')), key('g')),
            Resolved::Action(Action::Top)
        );
        let ctrl_d = Key {
            code: KeyCode::Char('d'),
            ctrl: true,
        };
        assert_eq!(
            map.resolve(None, ctrl_d),
            Resolved::Action(Action::PageDown)
        );
        let mut o = BTreeMap::new();
        o.insert("quit".to_string(), vec!["x".to_string()]);
        let map = Keymap::new(&o).expect("override");
        assert_eq!(map.resolve(None, key('x')), Resolved::Action(Action::Quit));
        o.insert("fly".to_string(), vec!["y".to_string()]);
        assert!(Keymap::new(&o)
            .expect_err("unknown action")
            .contains("keys.fly"));
    }

    #[test]
    fn every_action_has_a_default_key() {
        let map = Keymap::new(&BTreeMap::new()).expect("defaults");
        for a in Action::ALL {
            assert!(!map.keys_of(*a).is_empty(), "{} has no key", a.name());
        }
    }
}
