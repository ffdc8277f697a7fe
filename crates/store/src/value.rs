//! Values crossing the storage boundary: SQL parameters and result rows, limited to NULL, BIGINT and TEXT.

use crate::{DbError, DbErrorKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Val {
    Null,
    Int(i64),
    Text(String),
}

impl From<i64> for Val {
    fn from(v: i64) -> Self {
        Val::Int(v)
    }
}
impl From<i32> for Val {
    fn from(v: i32) -> Self {
        Val::Int(v as i64)
    }
}
impl From<u32> for Val {
    fn from(v: u32) -> Self {
        Val::Int(v as i64)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Self {
        Val::Int(v as i64)
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Self {
        Val::Text(v.to_owned())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Self {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Self {
        Val::Text(v.clone())
    }
}
impl<T: Into<Val>> From<Option<T>> for Val {
    fn from(v: Option<T>) -> Self {
        v.map(Into::into).unwrap_or(Val::Null)
    }
}

/// One result row. Accessors fail with a storage error on a type mismatch rather than panic.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Val>);

impl Row {
    fn get(&self, i: usize) -> Result<&Val, DbError> {
        self.0.get(i).ok_or_else(|| DbError::new(DbErrorKind::Other, format!("no column {i}")))
    }
    pub fn i64(&self, i: usize) -> Result<i64, DbError> {
        match self.get(i)? {
            Val::Int(v) => Ok(*v),
            other => Err(DbError::new(DbErrorKind::Other, format!("column {i}: expected integer, got {other:?}"))),
        }
    }
    pub fn opt_i64(&self, i: usize) -> Result<Option<i64>, DbError> {
        match self.get(i)? {
            Val::Null => Ok(None),
            _ => self.i64(i).map(Some),
        }
    }
    pub fn text(&self, i: usize) -> Result<String, DbError> {
        match self.get(i)? {
            Val::Text(v) => Ok(v.clone()),
            other => Err(DbError::new(DbErrorKind::Other, format!("column {i}: expected text, got {other:?}"))),
        }
    }
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, DbError> {
        match self.get(i)? {
            Val::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
    pub fn bool(&self, i: usize) -> Result<bool, DbError> {
        Ok(self.i64(i)? != 0)
    }
}
